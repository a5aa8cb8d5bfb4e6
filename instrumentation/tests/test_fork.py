"""Forking servers (gunicorn with preload, multiprocessing): telemetry from forked children works."""

from conftest import run_python


def test_spans_and_logs_from_forked_children_arrive(sink):
    code = """
    import json, os, sys, logging
    import hopscope.auto
    from opentelemetry import trace
    tracer = trace.get_tracer("fork-test")
    with tracer.start_as_current_span("parent-before-fork"):
        pass
    children = []
    for n in range(2):
        pid = os.fork()
        if pid == 0:  # a worker, as gunicorn forks them: it serves, then exits through sys.exit
            with tracer.start_as_current_span(f"child-{n}"):
                logging.getLogger("worker").warning("child %d working", n)
            sys.exit(0)
        children.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in children]
    with tracer.start_as_current_span("parent-after-fork"):
        pass
    print(json.dumps({"codes": codes, "parent": os.getpid()}))
    """
    result, _ = run_python(code, env={"HOPSCOPE_ENDPOINT": sink.url, "OTEL_SERVICE_NAME": "forky"})
    assert result["codes"] == [0, 0]
    by_name = {span.name: attrs for attrs, span in sink.spans()}
    assert set(by_name) == {"parent-before-fork", "child-0", "child-1", "parent-after-fork"}
    # The resource is fixed when hopscope is configured: children inherit the parent's process.pid,
    # as with the upstream SDK. What matters is that nothing they emit is lost.
    assert sorted(r.body.string_value for r in sink.log_records()) == ["child 0 working", "child 1 working"]
