"""gunicorn settings, from the environment so one image serves every environment."""

import os

# In a container the network namespace is the boundary: listen on all its interfaces.
port = os.environ.get("PORT", "8000")
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{port}")  # nosec B104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Time in-flight requests get after SIGTERM; below the platform's grace period.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then, staggered, to bound slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10

# JSON logs on stdout: the app's, gunicorn's errors and one access line per request.
logger_class = "{{ cookiecutter.package_name }}.logs.GunicornLogger"
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Headers from a proxy are trusted only from these addresses (see ProxyFix in the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
