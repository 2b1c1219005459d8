"""Settings of the cockpit's alerts: the SMTP server that sends alert e-mail, and how webhooks are retried."""

from __future__ import annotations

from urbanos.settings import Setting

SETTINGS: tuple[Setting, ...] = (
    Setting("smtp_host", str, "", "SMTP server that sends alert e-mail (empty: no e-mail).", section="alerts"),
    Setting("smtp_port", int, 25, "Port of the SMTP server.", section="alerts", minimum=1),
    Setting("smtp_from", str, "urbanos@localhost", "Sender address of alert e-mail.", section="alerts"),
    Setting("smtp_starttls", bool, False, "Upgrade the SMTP connection with STARTTLS before sending.",
            section="alerts"),
    Setting("smtp_username", str, "", "User name for SMTP authentication (empty: none).", section="alerts"),
    Setting("smtp_password", str, "", "Password for SMTP authentication.", section="alerts", sensitive=True),
    Setting("alerts_webhook_attempts", int, 6, "Attempts at delivering one alert to a webhook (or an e-mail) before "
            "the delivery is recorded as failed.", section="alerts", minimum=1),
    Setting("alerts_webhook_backoff", float, 2.0, "Seconds before the second attempt of a delivery; each further "
            "attempt waits twice as long.", section="alerts", minimum=0),
    Setting("alerts_webhook_timeout", float, 10.0, "Seconds one webhook request (or SMTP exchange) may take.",
            section="alerts", minimum=0.1),
    Setting("alerts_max_rules", int, 10000, "Most alert rules the platform keeps.", section="alerts", minimum=1),
)
