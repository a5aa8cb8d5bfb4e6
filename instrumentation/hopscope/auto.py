"""`import hopscope.auto`: configure telemetry from the environment. Place it first in the service.
Importing it again does nothing more; `HOPSCOPE_DISABLED=1` makes it a no-op."""

from hopscope import configure

handle = configure()
