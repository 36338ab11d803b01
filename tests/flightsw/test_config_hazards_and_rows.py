"""flight_config.json's touch-and-go hazard map and shape-model rows (flightsw/config.py):
a config with mapped hazards round-trips, and each malformed part is refused in one line
naming its key and showing (at most 60 characters of) the value."""

import json
from pathlib import Path

import pytest

from flightsw.config import FlightConfigError, flight_config_from_dict, flight_config_to_dict

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
HAZARDS = [[[10.0, -250.0, 37.0], 1.5], [[11.0, -251.0, 36.0], 0.5]]


def config(name="tag-descent-start"):
    return json.loads((GOLDEN / name / "flight_config.json").read_text())["flight_config"]


def with_hazards(hazards):
    data = config()
    data["tag"]["hazards"] = hazards
    return data


def refusal(data):
    with pytest.raises(FlightConfigError) as info:
        flight_config_from_dict(data)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_a_tag_site_with_mapped_hazards_round_trips():
    """Centre (3 numbers, m) and radius (m) per hazard, read back as the flight software
    keeps them and written back unchanged."""
    cfg = flight_config_from_dict(with_hazards(HAZARDS))
    assert cfg.tag.hazards == (((10.0, -250.0, 37.0), 1.5), ((11.0, -251.0, 36.0), 0.5))
    assert json.loads(json.dumps(flight_config_to_dict(cfg)))["tag"]["hazards"] == HAZARDS


@pytest.mark.parametrize(("hazards", "message"), [
    ({"centre": 1}, "tag.hazards: expected a list, got {'centre': 1}"),
    ([[1.0, 2.0, 3.0]], "tag.hazards.0: expected [centre_bf_m (3 numbers), radius_m], "
                        "got [1.0, 2.0, 3.0]"),
    ([HAZARDS[0], [[1.0, 2.0], 1.0]], "tag.hazards.1.0: expected a list of 3 numbers, "
                                      "got [1.0, 2.0]"),
    ([[[1.0, 2.0, 3.0], 0.0]], "tag.hazards.0.1: expected a number > 0 and <= 1000, got 0.0"),
    ([[[1.0, 2.0, 3.0], True]], "tag.hazards.0.1: expected a number > 0 and <= 1000, got True"),
])
def test_a_malformed_hazard_is_named(hazards, message):
    assert refusal(with_hazards(hazards)) == message


def test_a_long_value_is_shown_cut_to_sixty_characters():
    """The line stays a line: a long value is cut, with an ellipsis."""
    text = refusal(with_hazards("x" * 500))
    shown = text.split("got ", 1)[1]
    assert len(shown) == 60 and shown.endswith("...")


def test_a_shape_model_row_of_the_wrong_width_is_named():
    data = config("survey-slice")
    data["prospect"]["faces"][2] = [0, 1]
    assert refusal(data) == "prospect.faces.2: expected a list of 3 integers, got [0, 1]"


def test_one_down_direction_per_face_is_required():
    data = config("survey-slice")
    data["prospect"]["down_bf"].pop()
    n = len(data["prospect"]["faces"])
    assert refusal(data) == (f"prospect.down_bf: expected one direction per face ({n}), "
                             f"got {n - 1}")
