"""The REST API instance; each domain contributes a router from its own api.py."""

from ninja import NinjaAPI

api = NinjaAPI(title="Voronka API", version="1", urls_namespace="api")
