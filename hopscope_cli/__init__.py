"""The `hopscope` program: the command line and process orchestration (the collector with the
dashboard and the demo beside it, child processes, free ports, waiting for a URL). It is the only
package that knows all the others; none of them imports it."""
