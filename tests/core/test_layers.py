"""The layers (docs/architecture.md): no import cycles, no function-local import of a project module without
its reason, services queue tasks by name, and the wallet tells jobs when money reached an employer."""

import importlib.util
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered

from core.dispatch import dispatch, task_named
from wallet.models import Account
from wallet.signals import employer_credited

ROOT = Path(__file__).resolve().parents[2]


def _import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_has_no_cycles_and_no_upward_import(capsys):
    graph = _import_graph()
    assert graph.main([]) == 0
    out = capsys.readouterr().out
    assert "== cycles between apps: 0 " in out
    assert "== cycles inside apps (module level)\n   total: 0" in out
    assert "== imports up or across the layer order: 0" in out


def test_every_function_local_project_import_says_why():
    graph = _import_graph()
    local = graph.function_local_imports()
    assert local, "the scan found nothing: it is not reading the project"
    assert [f"{file}:{line} {target}" for file, line, target, commented in local if not commented] == []


def test_a_local_import_without_a_comment_is_found(tmp_path, monkeypatch):
    """The scan sees what it must: a project import inside a function, and whether its line says why."""
    graph = _import_graph()
    package = tmp_path / "core"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "thing.py").write_text(
        "def f():\n    from core import other\n\n\ndef g():\n    from core import other  # why\n"
    )
    (package / "other.py").write_text("")
    monkeypatch.setattr(graph, "ROOT", tmp_path)
    monkeypatch.setattr(graph, "PACKAGES", ["core"])
    assert [(file, line, commented) for file, line, _, commented in graph.function_local_imports()] == [
        ("core/thing.py", 2, False),
        ("core/thing.py", 6, True),
    ]


def test_dispatch_finds_a_task_by_its_name():
    assert task_named("notifications.tasks.sweep").name == "notifications.tasks.sweep"
    with pytest.raises(NotRegistered):
        dispatch("notifications.tasks.no_such_task")


def test_jobs_money_listens_for_money_reaching_an_employer():
    """The wallet knows no order: jobs pays owed wages when the wallet says an employer was credited (the
    payment itself: tests/jobs/test_order_machine.py, tests/wallet)."""
    sync_receivers, _ = employer_credited._live_receivers(Account)
    assert [f"{r.__module__}.{r.__name__}" for r in sync_receivers] == [
        "jobs.money._owed_wages_pay_on_credit"
    ]
