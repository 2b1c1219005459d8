"""The cockpit's usage part: how the published datasets and APIs are used (``/cockpit``, ``/cockpit/public``)."""
