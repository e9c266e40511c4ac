import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from disputes import services
from disputes.models import Case
from tests.disputes.conftest import PAY, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_file_list_detail_and_evidence(api, order, worker, worker2):
    api.force_authenticate(worker)
    response = api.post("/api/v1/disputes/cases/", {"order": order.pk, "category": "wage_arrears",
                                                     "description": "干完活老板不给钱", "amount_claimed_fen": PAY},
                        format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["status"] == "filed" and response.json()["side"] == "worker"
    assert [c["id"] for c in api.get("/api/v1/disputes/cases/").json()["results"]] == [pk]
    response = api.post(f"/api/v1/disputes/cases/{pk}/evidence/", {"file": png()}, format="multipart")
    assert response.status_code == 201 and response.json()[0]["content_type"] == "image/png"
    bad = SimpleUploadedFile("x.png", b"MZ not an image")
    response = api.post(f"/api/v1/disputes/cases/{pk}/evidence/", {"file": bad}, format="multipart")
    assert (
        response.status_code == 400
        and response.json()["code"] == "bad_type"
        and "file" in response.json()["fields"]
    )
    detail = api.get(f"/api/v1/disputes/cases/{pk}/").json()
    assert len(detail["evidence"]) == 1 and detail["timeline"][0]["text"] == "提交调解申请"

    api.force_authenticate(worker2)  # charlie
    assert api.get(f"/api/v1/disputes/cases/{pk}/").status_code == 404
    assert (
        api.post(f"/api/v1/disputes/cases/{pk}/evidence/", {"file": png()}, format="multipart").status_code
        == 404
    )
    assert api.get("/api/v1/disputes/cases/").json()["results"] == []
    response = api.post("/api/v1/disputes/cases/", {"order": order.pk, "category": "other", "description": "我也要投诉"},
                        format="json")  # fmt: skip
    assert response.status_code == 404


def test_bad_filing_is_structured(api, order, worker):
    api.force_authenticate(worker)
    response = api.post("/api/v1/disputes/cases/", {"order": order.pk, "category": "wage_arrears",
                                                     "description": "干完活老板不给钱", "amount_claimed_fen": -1},
                        format="json")  # fmt: skip
    assert response.status_code == 400 and "amount_claimed_fen" in response.json()["fields"]
    response = api.post(
        "/api/v1/disputes/cases/",
        {"order": order.pk, "category": "nonsense", "description": "干完活老板不给钱"},
        format="json",
    )
    assert response.status_code == 400 and "category" in response.json()["fields"]
    assert not Case.objects.exists()


def test_agreement_sign_and_reject(api, order, worker, boss, case_staff, mediator, outbox):
    import datetime as dt

    from django.utils import timezone

    case = services.case_file(actor=worker, order=order, category="wage_arrears", description="干完活老板不给钱",
                              amount_claimed_fen=PAY)  # fmt: skip
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    agreement = services.agreement_propose(case=case, actor=mediator, facts="事实", disputed_items="工资",
                                           worker_amount_fen=PAY, pay_by=timezone.localdate() + dt.timedelta(days=1))  # fmt: skip
    base = f"/api/v1/disputes/cases/{case.pk}/agreements/{agreement.pk}"
    api.force_authenticate(worker)
    assert api.post(f"{base}/code/").status_code == 200
    response = api.post(f"{base}/sign/", {"code": "000000"}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {"code": ["验证码不正确"]}
    response = api.post(f"{base}/sign/", {"code": outbox.code(worker.phone)}, format="json")
    assert response.status_code == 200 and response.json()["worker_signed_at"]
    api.force_authenticate(boss)
    response = api.post(f"{base}/reject/", {"reason": "金额太高"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    response = api.post(f"{base}/reject/", {"reason": "再拒一次"}, format="json")
    assert response.status_code == 409
