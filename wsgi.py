"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

from lms import create_app
from lms.serverheader import quiet_server_headers

quiet_server_headers()  # no "Server: gunicorn" or "Werkzeug/x Python/y" in any response
app = create_app()
