"""Where the 23 kecamatan go on the Districts page: a tile map, or the user's polygons.

Default: a tile map laid out from the kecamatan centroids in sim/data/kecamatan_codes.csv
(no external data): the centroids are stretched onto a grid and each kecamatan, taken
from the regency's edge inwards, gets the free cell nearest to its own position. The
result keeps north, south, east and west; areas are not to scale.

Polygons: a GeoJSON FeatureCollection whose features name a kecamatan by ``code``
(Kemendagri, e.g. 32.16.01) or ``name`` in their properties, given by path
(``CASELOAD_BOUNDARIES``, or ``make run BOUNDARIES=path``) or uploaded in the page. None
is shipped with the repository. A bad file gives one ``error:`` message saying what is
wrong; it is never written to disk.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.districts import DATA_DIR

BOUNDARIES_ENV = "CASELOAD_BOUNDARIES"
MAX_GEOJSON_BYTES = 10 * 1024 * 1024


class GeoError(ValueError):
    """A boundaries file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Kecamatan:
    """A kecamatan's code, name and centroid."""

    code: str
    name: str
    lat: float
    lng: float


def kecamatan() -> list[Kecamatan]:
    """The 23 kecamatan with their centroids (sim/data/kecamatan_codes.csv)."""
    with (DATA_DIR / "kecamatan_codes.csv").open(encoding="utf-8", newline="") as fh:
        return [Kecamatan(r["kemendagri_code"], r["name"], float(r["centroid_lat"]), float(r["centroid_lng"]))
                for r in csv.DictReader(fh)]


def tile_layout(places: list[Kecamatan] | None = None, cols: int = 7, rows: int = 6) -> dict[str, tuple[int, int]]:
    """Grid cell (column, row; row 0 at the top = north) of every kecamatan, one per cell."""
    places = kecamatan() if places is None else places
    if len(places) > cols * rows:
        raise ValueError(f"{len(places)} places do not fit a {cols} x {rows} grid")
    lats = [p.lat for p in places]
    lngs = [p.lng for p in places]
    lat0, lat1 = min(lats), max(lats)
    lng0, lng1 = min(lngs), max(lngs)

    def target(p: Kecamatan) -> tuple[float, float]:
        x = (p.lng - lng0) / ((lng1 - lng0) or 1.0) * (cols - 1)
        y = (lat1 - p.lat) / ((lat1 - lat0) or 1.0) * (rows - 1)
        return x, y

    cx, cy = (cols - 1) / 2, (rows - 1) / 2
    order = sorted(places, key=lambda p: (-math.hypot(target(p)[0] - cx, target(p)[1] - cy), p.code))
    free = {(c, r) for c in range(cols) for r in range(rows)}
    out: dict[str, tuple[int, int]] = {}
    for p in order:
        x, y = target(p)
        cell = min(free, key=lambda cr: ((cr[0] - x) ** 2 + (cr[1] - y) ** 2, cr))
        free.discard(cell)
        out[p.code] = cell
    return out


def parse_geojson(data: bytes, where: str) -> dict[str, Any]:
    """A FeatureCollection with ``properties.name`` set to the canonical kecamatan name.

    Features are matched by ``code`` first, then by ``name`` (case and spaces ignored);
    features that match no kecamatan are dropped. Raises GeoError when nothing usable is left.
    """
    if len(data) > MAX_GEOJSON_BYTES:
        raise GeoError(f"{where}: file is {len(data)} bytes; at most {MAX_GEOJSON_BYTES} bytes are accepted")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GeoError(f"{where}: not valid GeoJSON (JSON error: {e})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise GeoError(f"{where}: expected a GeoJSON FeatureCollection with a 'features' list")
    places = kecamatan()
    by_code = {p.code: p for p in places}
    by_name = {p.name.replace(" ", "").lower(): p for p in places}
    feats: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, f in enumerate(doc["features"]):
        if not isinstance(f, dict):
            raise GeoError(f"{where}: features[{i}]: expected an object")
        geom = f.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise GeoError(f"{where}: features[{i}].geometry: expected a Polygon or MultiPolygon")
        raw_props = f.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        code, name = str(props.get("code", "")), str(props.get("name", ""))
        place = by_code.get(code) or by_name.get(name.replace(" ", "").lower())
        if place is None or place.code in seen:
            continue
        seen.add(place.code)
        feats.append({"type": "Feature", "geometry": geom, "properties": {"name": place.name, "code": place.code}})
    if not feats:
        raise GeoError(f"{where}: no feature names a kecamatan of Kabupaten Bekasi by 'code' (e.g. 32.16.01) "
                       "or 'name' in its properties")
    return {"type": "FeatureCollection", "features": feats}


def boundaries_from_env() -> tuple[dict[str, Any] | None, str, str | None]:
    """(polygons, source label, error) from ``CASELOAD_BOUNDARIES``; (None, '', None) when unset."""
    raw = os.environ.get(BOUNDARIES_ENV, "").strip()
    if not raw:
        return None, "", None
    path = Path(raw)
    try:
        size = path.stat().st_size
        if size > MAX_GEOJSON_BYTES:
            raise GeoError(f"{path}: file is {size} bytes; at most {MAX_GEOJSON_BYTES} bytes are accepted")
        return parse_geojson(path.read_bytes(), str(path)), path.name, None
    except OSError as e:
        return None, "", f"{path}: cannot read boundaries file ({e.strerror})"
    except GeoError as e:
        return None, "", str(e)
