"""The OpenAPI document and the docs page; and schemathesis against a live instance: every
operation with generated and mutated inputs (bounded), nothing answers 5xx, every status is
documented, every answer matches its schema."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from bench.stack import wait_port
from mysocial.dev import free_port, stop_process
from tests.conftest import PNG

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))  # per operation and mode


async def test_the_document_covers_every_route_with_its_errors(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routes = {(r.method, r.resource.canonical) for r in client.app.router.routes()
              if r.method != "HEAD" and not r.resource.canonical.startswith(("/socket.io", "/api/docs"))
              and r.resource.canonical != "/api/v1/openapi.json"}
    assert routes == operations, routes ^ operations
    post = document["paths"]["/api/v1/post/image/post"]["post"]
    assert set(post["responses"]) >= {"201", "400", "401", "403", "404", "413", "415", "429"}
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ImagePost")
    assert sorted(document["components"]["schemas"]["Error"]["required"]) == ["message", "status", "statusCode"]
    assert "add post" in document["x-socket-events"]["serverToClient"]


async def test_the_docs_page_is_served_by_the_api_itself(client):
    response = await client.get("/api/docs")
    page = await response.text()
    assert response.status == 200 and "swagger-ui-bundle.js" in page
    assert not re.search(r"(src|href)=\"https?://", page), "no asset from anywhere else"
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", page):
        assert (await client.get(asset)).status == 200, asset


@pytest.fixture(scope="module")
def live(redis_port, mongo_url, tmp_path_factory):
    """One API process on a real port, for schemathesis's synchronous client."""
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/5",
           "MONGO_URL": mongo_url, "MONGO_DB": f"fuzz_{uuid.uuid4().hex[:8]}", "PYTHONPATH": str(ROOT),
           "RATE_LIMIT": "0", "AUTH_RATE_LIMIT": "0", "BCRYPT_ROUNDS": "4", "LOG_LEVEL": "WARNING",
           "MEDIA_DIR": str(folder / "media"), "OUTBOX_DIR": str(folder / "outbox"),
           "API_URL": f"http://127.0.0.1:{port}"}
    log = open(folder / "api.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "mysocial", "serve"], env=env, cwd=folder, stdout=log,
                            stderr=subprocess.STDOUT)
    wait_port(port, proc, "the API")
    url = f"http://127.0.0.1:{port}"
    signup = requests.post(f"{url}/api/v1/signup", json={"username": "fuzzer", "password": "secret1",
                                                         "email": "fuzzer@example.com", "avatarColor": "red",
                                                         "avatarImage": PNG}, timeout=30)
    assert signup.status_code == 201, signup.text
    yield url
    stop_process(proc)


def fresh_token(url: str) -> str:
    """A session of its own for each case: a case may sign out or change the password."""
    answer = requests.post(f"{url}/api/v1/signin", json={"username": "fuzzer", "password": "secret1"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


# What is checked: no 5xx; every status documented; every answer's content type and body as
# documented; mutated (schema-invalid) input refused with a 4xx. Not checked: that schema-valid
# input is accepted — the contract answers 400 to valid-looking bodies by rule (wrong credentials,
# a username already taken, an upload that is not an image).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


def test_every_operation_survives_generated_and_mutated_input(live):
    """Each operation: EXAMPLES generated (positive) and EXAMPLES mutated (negative) cases, every one
    called and validated with schemathesis's checks. (Driven per operation from here: the pytest
    plugin's lazy loader does not run under pytest 9.)"""
    api = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json")
    operations, examples, failures = 0, 0, []
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        secured = bool(operation.definition.raw.get("security"))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            seen: list[int] = []

            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=list(hypothesis.HealthCheck), phases=[hypothesis.Phase.generate])
            def run(case):
                seen.append(1)
                if case.path.endswith("/change-password") and isinstance(case.body, dict):
                    case.body["currentPassword"] = "wrong-on-purpose"  # the shared account keeps its password
                headers = {"Authorization": f"Bearer {fresh_token(live)}"} if secured else {}
                case.call_and_validate(base_url=live, headers=headers, checks=CHECKS)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing to mutate (an operation without parameters or body)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # schemathesis's FailureGroup: collected, reported together below
                failures.append(f"{operation.label} [{mode}]: {str(exc)[:1500]}")
            examples += len(seen)
    print(f"schemathesis: {operations} operations, {examples} examples, {len(failures)} failures")
    assert operations >= 60
    assert not failures, "\n\n".join(failures)
