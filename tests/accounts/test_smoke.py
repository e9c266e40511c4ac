def test_user_created(alice):
    assert alice.phone == "13800000001"
    assert alice.worker_profile is not None
