"""Rate limits kept in the real Redis server (as in production), answered as JSON 429s."""

import secrets

import pytest

from tests.conftest import make_test_app

redis = pytest.importorskip("redis")
REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture()
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.mark.redis
def test_login_rate_limit_is_shared_through_redis(tmp_path, issuer_test_key, redis_client):
    prefix = "saylau-test-" + secrets.token_hex(6)
    config = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                  RATELIMIT_KEY_PREFIX=prefix)
    first = make_test_app(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, issuer_test_key, **config)
    # a second app instance (another worker process in production) shares the counter
    second = make_test_app(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, issuer_test_key, **config)
    body = {"email": "nobody@example.org", "password": "wrong"}
    statuses = []
    for i in range(22):
        client = (first if i % 2 else second).test_client()
        statuses.append(client.post("/api/v1/auth/login", json=body).status_code)
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429, 429]
    answer = first.test_client().post("/api/v1/auth/login", json=body)
    assert answer.status_code == 429
    assert answer.is_json and answer.get_json()["error"]["code"]
    keys = list(redis_client.scan_iter(f"*{prefix}*"))
    assert keys, "the counters must live in Redis"
    redis_client.delete(*keys)
