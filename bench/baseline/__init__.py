"""The independent baseline: bare Channels in its own Daphne, with none of the product's
settings, layer patches or start-up tuning (issue 19). Run as
`DJANGO_SETTINGS_MODULE=bench.baseline.settings daphne bench.baseline.asgi:application`."""
