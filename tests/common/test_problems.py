"""Bad input anywhere in the API is a problem+json 4xx, never an HTML page or a 500."""

import pytest


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_store")
def test_an_oversize_body_to_any_api_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = {"size": "Small", "weight": 1, "ownerId": "x", "tag": "t" * 500}
    response = api.put("/api/packages/p-big", body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_an_unknown_api_path_is_a_404_problem_even_with_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["detail"] == "No resource at /api/nothing-here."
