"""The bottom of the house: the shared vocabulary (`core.types`), the one duration parser
(`core.durations`) and the one periodic background thread (`core.periodic`). It imports nothing
else of hopscope, and every other package may import it."""
