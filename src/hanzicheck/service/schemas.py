"""Request and response bodies of the HTTP API (pydantic models; they also make the OpenAPI schema).

Result fields are those of the CLI's JSON (``Classification.to_dict()``, ``Verification.to_dict()``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_TOP_K = 20
# Schema-level bounds (the settings' tighter per-request limits are checked by the routes).
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[x, y], y down")]
Stroke = Annotated[list[Point], Field(min_length=1, max_length=10_000)]


class DrawingInput(BaseModel):
    """One drawing: a base64 image (PNG/JPEG/…, optionally a ``data:`` URL) or pen strokes as a canvas records
    them (``[[[x, y], ...], ...]``, any scale, y down; rendered server-side). Exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(None, description="base64 of an encoded image file, or a data: URL")
    strokes: list[Stroke] | None = Field(None, min_length=1, max_length=500,
                                         description="pen strokes, each a list of [x, y] points")

    @model_validator(mode="after")
    def _exactly_one(self) -> DrawingInput:
        if (self.image is None) == (self.strokes is None):
            raise ValueError("give exactly one of 'image' (base64) or 'strokes' ([[[x, y], ...], ...])")
        return self


class ClassifyRequest(DrawingInput):
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="how many of the most likely classes to return")


class VerifyRequest(DrawingInput):
    target: Annotated[str, StringConstraints(strip_whitespace=True)] = Field(
        ..., min_length=1, max_length=8,
        description="the character the drawing should be (surrounding whitespace is ignored, as by the CLI)")


class DiagnoseRequest(VerifyRequest):
    pass


class ClassifyResponse(BaseModel):
    char: str = Field(description="the recognised character, or 'Unknown'")
    confidence: float
    top_k: list[Annotated[list[str | float], Field(min_length=2, max_length=2)]] = Field(
        description="[[char, probability], ...], most likely first")


class VerifyResponse(BaseModel):
    """The verify rule's verdict (inference/verdict.py) and what it rests on; numbers are null for an invalid
    target."""

    target: str
    verdict: Literal["correct", "incomplete_or_unclear", "invalid_target"]
    similarity: float | None = Field(description="cosine similarity to the target's template (the spec's)")
    threshold: float | None = Field(description="the target's calibrated threshold on `score`")
    score: float | None = Field(None, description="similarity moved by the classifier's probability of the "
                                                  "target and by a stroke that looks missing")
    probability: float | None = Field(None, description="the target's calibrated probability")
    rank: int | None = Field(None, description="the target's place among the classes, 1 = most likely")
    reason: Literal["missing_stroke", "other_character", "far_from_template"] | None = Field(
        None, description="why it was refused (null when correct)")
    other: str | None = Field(None, description="the likelier character (reason other_character)")
    missing_stroke: int | None = Field(None, description="the stroke that looks missing, 0-based in standard "
                                                         "order (reason missing_stroke)")


class StrokeOrderOut(BaseModel):
    """How pen strokes were written against the standard stroke order (``inference/stroke_order.py``); advice that
    never changes the verdict. Indices from 0; missing strokes, and strokes no drawn stroke clearly covers, are in
    no list."""

    drawn_as: list[list[int]] = Field(description="per drawn stroke (in the order sent), the target's strokes "
                                                  "it covers, ascending: several when strokes were joined in one "
                                                  "pen-down stroke, none for extra ink")
    out_of_order: list[int] = Field(description="strokes drawn (in an earlier drawn stroke) before a stroke that "
                                                "comes earlier in standard order")
    reversed: list[int] = Field(description="strokes drawn against their direction (dots and short strokes are "
                                            "never named)")


class DiagnoseResponse(VerifyResponse):
    """``/v1/verify``'s answer for the drawing (refused with reason ``missing_stroke`` when the diagnosis finds a
    stroke missing that verify passed), and the diagnosis."""

    missing_strokes: list[int] = Field(description="indices (standard stroke order, from 0) of missing strokes")
    stroke_scores: list[float]
    extra_ink: list[list[float]] = Field(description="boxes [x0, y0, x1, y1] of ink far from every stroke")
    reference_strokes: list[list[list[float]]] = Field(
        description="the target's strokes (standard order) as aligned to the drawing, in its coordinates")
    stroke_order: StrokeOrderOut | None = Field(
        description="for pen strokes, their order and direction; null for an image and for an invalid target")


class ErrorResponse(BaseModel):
    error: str = Field(description="a short machine-readable code, e.g. 'invalid_image'")
    message: str = Field(description="what is wrong and how to fix it")
    details: list[dict[str, Any]] | None = None


class Health(BaseModel):
    status: Literal["ok"]
    model: str


class CharInfo(BaseModel):
    char: str
    pinyin: str


class VersionInfo(BaseModel):
    hanzicheck: str
    onnxruntime: str
    model: dict[str, Any]


def multipart_schema(extra: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI schema of the multipart form: an ``image`` file plus the request's other fields."""
    return {"type": "object", "required": ["image", *[k for k, v in extra.items() if v.pop("required", False)]],
            "properties": {"image": {"type": "string", "format": "binary"}, **extra}}


def request_body(model: type[BaseModel], form_fields: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting both accepted bodies (JSON and multipart) of a route."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()},
        "multipart/form-data": {"schema": multipart_schema(form_fields)},
    }}}
