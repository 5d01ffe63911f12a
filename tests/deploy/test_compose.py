"""deploy/compose.yaml, deploy/traefik and deploy/envoy, read as data: no container
engine or Traefik or Envoy runs on these machines, so what can be checked without
them is checked here (the same topology runs with real processes in
tests/deploy/test_topology.py)."""

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.deploy.proxy import ROOT, SHIPPED, SHIPPED_APP, SHIPPED_LISTEN, SHIPPED_TOKEND

DEPLOY = ROOT / "deploy"
NODES = ("tokend-a", "tokend-b")
IDENTITY = ("x-tokend-user-id", "x-tokend-username", "x-tokend-token-id",
            "x-tokend-team-id", "x-tokend-permissions")  # fmt: skip


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


COMPOSE = load(DEPLOY / "compose.yaml")
SERVICES: dict[str, Any] = COMPOSE["services"]


def address(service: str) -> str:
    return str(SERVICES[service]["networks"]["tokend"]["ipv4_address"])


def test_the_services_are_two_nodes_postgresql_redis_nginx_and_the_application() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", *NODES, "app", "nginx"}


def test_both_nodes_share_one_database_and_one_redis() -> None:
    first, second = (SERVICES[node]["environment"] for node in NODES)
    assert first == second  # every setting, not only these two
    database = urlsplit(first["TOKEND_DATABASE_URL"])
    postgres = SERVICES["postgres"]["environment"]
    assert database.scheme == "postgresql"
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == f"/{postgres['POSTGRES_DB']}"
    redis_url = urlsplit(first["TOKEND_REDIS_URL"])
    assert (redis_url.scheme, redis_url.hostname, redis_url.port) == ("redis", "redis", 6379)
    # The migration runs on the same database, before either node starts.
    assert SERVICES["migrate"]["environment"] == first
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    for node in NODES:
        needs = SERVICES[node]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}
        assert needs["postgres"] == {"condition": "service_healthy"}
        assert needs["redis"] == {"condition": "service_healthy"}
        assert SERVICES[node]["image"] == SERVICES["migrate"]["image"]


def test_nginx_runs_the_shipped_configuration_in_front_of_both_nodes() -> None:
    nginx = SERVICES["nginx"]
    mounts = [volume.split(":") for volume in nginx["volumes"]]
    assert ["./nginx/tokend.conf", "/etc/nginx/conf.d/default.conf", "ro"] in mounts
    assert (DEPLOY / "nginx" / "tokend.conf").resolve() == SHIPPED
    # The upstream servers the shipped file names are the nodes' and the application's
    # fixed addresses, on the port tokend listens on.
    port = SERVICES["tokend-a"]["environment"]["TOKEND_PORT"]
    assert [f"{address(node)}:{port}" for node in NODES] == list(SHIPPED_TOKEND)
    assert f"{address('app')}:8080" == SHIPPED_APP
    assert SERVICES["app"]["command"] == ["--port", "8080"]
    assert SERVICES["tokend-a"]["environment"]["TOKEND_HOST"] == "0.0.0.0"
    # Published: nginx's port, the one the shipped file listens on.
    listen = re.search(r"listen (\d+);", SHIPPED_LISTEN)
    assert listen is not None
    assert nginx["ports"] == [f"{listen.group(1)}:{listen.group(1)}"]
    for node in NODES:
        assert nginx["depends_on"][node] == {"condition": "service_healthy"}


def test_only_nginx_is_published() -> None:
    # tokend, PostgreSQL, Redis and the application are reached through nginx alone:
    # a published node would let a client past the check to tokend's own API, fine,
    # but a published application would let it past the check altogether.
    published = {name for name, service in SERVICES.items() if "ports" in service}
    assert published == {"nginx"}


def test_the_nodes_believe_the_x_forwarded_for_of_nginx_alone() -> None:
    trusted = SERVICES["tokend-a"]["environment"]["TOKEND_TRUSTED_PROXIES"]
    assert trusted == address("nginx")


def test_every_address_is_fixed_inside_the_network_and_unique() -> None:
    subnet = ipaddress.ip_network(COMPOSE["networks"]["tokend"]["ipam"]["config"][0]["subnet"])
    addresses = [address(name) for name in SERVICES]
    assert len(set(addresses)) == len(addresses)
    assert all(ipaddress.ip_address(each) in subnet for each in addresses)


def test_the_image_is_built_from_the_shipped_dockerfile() -> None:
    build = SERVICES["tokend-a"]["build"]
    dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
    assert dockerfile == DEPLOY / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"^USER tokend$", text, re.MULTILINE), "the image must not run as root"
    assert 'ENTRYPOINT ["tokend"]' in text


def test_traefik_forward_auth_asks_tokend_and_replaces_every_x_tokend_header() -> None:
    config = load(DEPLOY / "traefik" / "tokend.yaml")["http"]
    middlewares = config["middlewares"]
    checks = [m["forwardAuth"] for m in middlewares.values() if "forwardAuth" in m]
    assert len(checks) == 2
    for check in checks:
        assert urlsplit(check["address"]).path == "/v1/auth/check"
        assert check["trustForwardHeader"] is False
        assert check["authRequestHeaders"] == ["Authorization"]
        # Traefik deletes every request header the regex matches, then copies tokend's.
        pattern = re.compile(check["authResponseHeadersRegex"])
        for name in (*IDENTITY, "X-Tokend-User-Id", "X_Tokend_User_Id", "X-TOKEND-ANYTHING"):
            assert pattern.match(name), name
        assert not pattern.match("X-Forwarded-For")
    assert urlsplit(checks[1]["address"]).query == "permission=tokens:write"
    for router in config["routers"].values():
        assert router["middlewares"][0].startswith("tokend-check"), router
        assert "drop-authorization" in router["middlewares"]
    assert middlewares["drop-authorization"]["headers"]["customRequestHeaders"] == {
        "Authorization": ""
    }


def test_envoy_strips_the_client_headers_before_ext_authz_adds_tokend_s() -> None:
    config = load(DEPLOY / "envoy" / "envoy.yaml")["static_resources"]
    public = next(each for each in config["listeners"] if each["name"] == "public")
    manager = public["filter_chains"][0]["filters"][0]["typed_config"]
    names = [each["name"] for each in manager["http_filters"]]
    assert names == ["envoy.filters.http.header_mutation", "envoy.filters.http.ext_authz",
                     "envoy.filters.http.router"]  # fmt: skip
    mutations = manager["http_filters"][0]["typed_config"]["mutations"]["request_mutations"]
    removed = [mutation["remove"] for mutation in mutations]
    assert sorted(removed) == sorted(IDENTITY)
    assert manager["common_http_protocol_options"]["headers_with_underscores_action"] == (
        "REJECT_REQUEST"
    )
    ext_authz = manager["http_filters"][1]["typed_config"]
    assert ext_authz["failure_mode_allow"] is False
    service = ext_authz["http_service"]
    assert service["path_prefix"] == "/v1/auth/check"
    assert service["authorization_request"]["allowed_headers"]["patterns"] == [
        {"exact": "authorization"}
    ]
    assert service["authorization_response"]["allowed_upstream_headers"]["patterns"] == [
        {"prefix": "x-tokend-"}
    ]
    # The check's own listener replaces path_prefix + the request's path and query
    # (which tokend would refuse) with the check's path alone.
    check = next(each for each in config["listeners"] if each["name"] == "tokend_check")
    filters = check["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
    assert [each["name"] for each in filters] == ["envoy.filters.http.lua",
                                                  "envoy.filters.http.router"]  # fmt: skip
    lua = filters[0]["typed_config"]["default_source_code"]["inline_string"]
    assert 'replace(":path", "/v1/auth/check")' in lua
    tokend = next(each for each in config["clusters"] if each["name"] == "tokend")
    assert len(tokend["load_assignment"]["endpoints"][0]["lb_endpoints"]) == 2
