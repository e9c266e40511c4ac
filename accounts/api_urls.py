"""Account API under /api/v1/. (Owned by the API work; filled in there.)"""

urlpatterns: list = []
