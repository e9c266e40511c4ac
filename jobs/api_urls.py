"""Jobs API under /api/v1/. (Filled in by the jobs API work.)"""

urlpatterns: list = []
