import pytest
from django.contrib.auth.models import Permission

from jobs import services

pytestmark = pytest.mark.django_db


def test_staff_sees_orders_read_only_with_history_and_no_phone(client, staff, post, worker):
    order = services.claim_create(post=post, worker=worker).order
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "view_post"]))
    client.force_login(staff)
    page = client.get(f"/admin/jobs/order/{order.pk}/change/").content.decode()
    assert "已确认" in page and worker.phone not in page
    assert client.post(f"/admin/jobs/order/{order.pk}/change/", {}).status_code == 403
    post_page = client.get(f"/admin/jobs/post/{post.pk}/change/").content.decode()
    assert post.contact_phone not in post_page and "137****1111" in post_page
