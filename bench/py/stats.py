"""Medians, ranges and ratios of repeated measurements."""
import statistics


def summary(values):
    """{"median", "min", "max", "n", "values"} of a list of numbers."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


def ratio(numerator, denominator):
    if not numerator or not denominator or not denominator["median"]:
        return None
    return numerator["median"] / denominator["median"]
