"""Jobs pages. (Filled in by the jobs pages work.)"""

app_name = "jobs"
urlpatterns: list = []
