"""Great-circle distances (haversine) on a spherical Earth of radius 6371.0 km, as the format specifies."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two points given in degrees."""
    return float(distance_matrix_km(np.array([[lat1, lon1]]), np.array([[lat2, lon2]]))[0, 0])


def distance_matrix_km(origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """Distances in km from each (lat, lon) row of ``origins`` [N, 2] to each of ``destinations`` [M, 2]."""
    a = np.radians(np.asarray(origins, dtype=float))[:, None, :]
    b = np.radians(np.asarray(destinations, dtype=float))[None, :, :]
    dlat = b[..., 0] - a[..., 0]
    dlon = b[..., 1] - a[..., 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(a[..., 0]) * np.cos(b[..., 0]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
