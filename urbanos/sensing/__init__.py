"""Real-time sensing: the OGC SensorThings API over HTTP and MQTT."""
