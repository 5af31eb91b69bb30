"""Request and response models of the HTTP API, and its limits: they validate JSON bodies and make the OpenAPI
schema precise (``/openapi.json``), so clients and the Schemathesis fuzz test know every bound."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inkmath.limits import MAX_POINTS, MAX_POINTS_PER_STROKE, MAX_STROKES  # noqa: F401 (shared with the CLI and API)

# Limits: the ink's are the library's (inkmath.limits: a generous drawing is a few dozen strokes of a few hundred
# points); a phone photo is ~12 megapixels.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_COORD = 100_000.0  # |x|, |y| in canvas pixels or tablet units
MAX_IMAGE_PIXELS = 16_000_000
MAX_TOP = 20
MAX_LATEX_CHARS = 2000  # typed LaTeX for /api/solve (inkmath.equation.core.latex_parse.MAX_LATEX_CHARS)
# a page photo's upload (POST /api/page): a 24-megapixel phone JPEG is 5-15 MB (the web page sends a downscaled JPEG
# of about 1 MB; this is for API clients that send the camera's file)
MAX_PAGE_BODY_BYTES = 32 * 1024 * 1024
MAX_PAGE_PIXELS = 40_000_000  # a page photo (POST /api/page): a 24-megapixel phone photo fits; it is read downscaled
PAGE_CONCURRENCY = 2  # pages read at once by one server process (a page is several expressions' work)
# a page expression's crop sent back to be read again (POST /api/page/expression): the crops of generated and
# photographed pages are 1-20 KB of PNG (white ink on black, the reader's 2x enlargement)
MAX_CROP_CHARS = 2 * 1024 * 1024
MAX_CROP_PIXELS = 4_000_000
MAX_PHOTO_SIDE = 100_000

# strict: a number, not text that reads as one ("12") nor true/false (which lax validation takes for 1 and 0)
Coordinate = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD, allow_inf_nan=False, strict=True)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=3, description="x, y (y down), optional time")]
Stroke = Annotated[list[Point], Field(min_length=1, max_length=MAX_POINTS_PER_STROKE)]
Strokes = Annotated[list[Stroke], Field(min_length=1, max_length=MAX_STROKES,
                                        description="pen-down to pen-up point lists, in writing order")]
Corrections = Annotated[dict[Annotated[str, Field(pattern=r"^[0-9]{1,4}$")],
                              Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=MAX_STROKES)]
WeightsName = Annotated[str, Field(min_length=1, max_length=64, description="a name from GET /api/models")]


class SymbolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strokes: Strokes
    weights: WeightsName | None = None
    top: int = Field(5, ge=1, le=MAX_TOP)


class CorrectableRequest(BaseModel):
    """What a request to read an expression (again) with the user's corrections of its symbols carries."""

    model_config = ConfigDict(extra="forbid")
    weights: WeightsName | None = None
    corrections: Corrections = Field(default_factory=dict,
                                     description="symbol index (0-based, as in the response) -> chosen label")
    solve: bool = True


class ExpressionRequest(CorrectableRequest):
    strokes: Strokes
    steps: bool = Field(False, description="add answer.steps: a worked solution [{latex, reason, sympy}]")
    plot: bool = Field(False, description="add answer.plot: the graph as SVG text (or null and answer.plot_reason)")


class SolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latex: str = Field(max_length=MAX_LATEX_CHARS,
                       description="typed LaTeX of the subset recognition writes, e.g. 2(x-1)=x+4")
    steps: bool = Field(False, description="add answer.steps: a worked solution [{latex, reason, sympy}]")
    plot: bool = Field(False, description="add answer.plot: the graph as SVG text (or null and answer.plot_reason)")


class SolveResponse(BaseModel):
    latex: str
    mathml: str
    answer: dict[str, Any]


class SolveError(BaseModel):
    detail: str = Field(description="what is wrong with the LaTeX, naming the character position")
    error: str


class PredictionOut(BaseModel):
    label: str
    latex: str
    prob: float
    mathml: str


class SymbolResponse(BaseModel):
    file: str | None
    weights: str
    predictions: list[PredictionOut]


class AlternativeOut(BaseModel):
    label: str
    prob: float
    latex: str = Field(description="LaTeX of the label (added by the web API to `inkmath recognize --json`)")
    mathml: str = Field(description="its MathML, for the page's list of alternatives")


class SymbolHypOut(BaseModel):
    label: str
    latex: str
    box: list[float] = Field(min_length=4, max_length=4, description="x0, y0, x1, y1 in the input's coordinates")
    prob: float
    strokes: list[int]
    alternatives: list[AlternativeOut]


class ReadingSymbolOut(BaseModel):
    label: str = Field(description="this reading's token for the symbol")
    latex: str
    box: list[float] = Field(min_length=4, max_length=4, description="x0, y0, x1, y1 in the input's coordinates")
    strokes: list[int] = Field(description="the strokes (of an image: the ink's parts) the symbol is made of")


class ReadingOut(BaseModel):
    latex: str
    confidence: float = Field(ge=0, le=1, description="estimated probability that this reading is right")
    same_symbols: bool | None = Field(None, description="true when this reading's `symbols` are the response's "
                                                        "`symbols` (the same grouping of the ink: `symbols[i]` is the "
                                                        "response's symbol i read as this reading reads it); false "
                                                        "when it groups the ink into other symbols")
    symbols: list[ReadingSymbolOut] | None = Field(None, description="the symbols this reading reads, each labelled "
                                                                     "with this reading's token, in the order "
                                                                     "of its grouping (as the response's `symbols`)")


class ExpressionResponse(BaseModel):
    file: str | None
    weights: str
    latex: str
    mathml: str
    answer: dict[str, Any]
    symbols: list[SymbolHypOut]
    confidence: float = Field(ge=0, le=1, description="estimated probability that `latex` is right")
    alternatives: list[ReadingOut] = Field(max_length=5, description="whole readings, best first; the first is "
                                                                     "`latex`")
    page_like: bool = Field(False, description="an uploaded photo whose reading is unsure and whose ink lies on "
                                               "several lines of writing: better read as a page (POST /api/page)")


Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


class PageCrop(BaseModel):
    """What a page expression was read from, to read it again with a correction (``POST /api/page/expression``)."""

    model_config = ConfigDict(extra="forbid")
    png: str = Field(min_length=1, max_length=MAX_CROP_CHARS,
                     description="base64 PNG: the image the expression reader read (white ink on black)")
    to_photo: list[Annotated[list[Finite], Field(min_length=3, max_length=3)]] = Field(
        min_length=3, max_length=3, description="3x3 homography from the crop's pixels to the photo's")
    photo_size: list[Annotated[int, Field(ge=1, le=MAX_PHOTO_SIDE)]] = Field(
        min_length=2, max_length=2, description="the photo's width and height in pixels (as shown)")


class PageExpressionOut(BaseModel):
    latex: str
    mathml: str
    box: list[float] = Field(min_length=4, max_length=4, description="x0, y0, x1, y1 in the photo's pixels (as shown, "
                                                                     "EXIF orientation applied)")
    answer: dict[str, Any]
    symbols: list[SymbolHypOut]
    confidence: float | None = Field(None, ge=0, le=1, description="estimated probability that `latex` is right "
                                                                   "(the expression reader's calibrated confidence)")
    alternatives: list[ReadingOut] = Field(default_factory=list, max_length=5,
                                           description="whole readings, best first; the first is `latex`")
    label: str | None = Field(None, description='a question number written before the expression ("1)", "a."), '
                                                'as text')
    crop: PageCrop | None = Field(None, description="what it was read from: send it to POST /api/page/expression "
                                                    "with a correction of one of its symbols")


class PageExpressionRequest(CorrectableRequest):
    crop: PageCrop


class PageExpressionResponse(PageExpressionOut):
    weights: str


class PageOtherOut(BaseModel):
    kind: str = Field(description='"text", "label" or "crossed_out"')
    box: list[float] = Field(description="x0, y0, x1, y1 in the photo's pixels (as shown)")


class PageResponse(BaseModel):
    file: str | None
    weights: str
    width: int = Field(description="the photo's width in pixels (as shown)")
    height: int
    expressions: list[PageExpressionOut] = Field(description="in reading order: columns left to right, top to "
                                                             "bottom in each")
    other: list[PageOtherOut] = Field(default_factory=list,
                                      description="ink that is not maths (words, question numbers standing alone, "
                                                  "crossed-out ink), top to bottom")


class ErrorResponse(BaseModel):
    error: str


class WeightsInfo(BaseModel):
    name: str
    model: str
    classes: int
    preset: str
    test_top1: float | None


class ModelsResponse(BaseModel):
    symbol_default: str
    expression_default: str
    engine: str
    weights: list[WeightsInfo]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    engine: str
    loaded: list[str]


class ImageUpload(BaseModel):
    """The multipart form of an image upload (OpenAPI documentation only; parsed by ``_read_upload``)."""

    image: bytes = Field(json_schema_extra={"format": "binary"}, description="PNG, JPEG, BMP, GIF, TIFF or WebP")
    weights: WeightsName | None = None
    ink: Literal["auto", "white", "black"] = "auto"
    top: int = Field(5, ge=1, le=MAX_TOP)
    corrections: str | None = Field(None, description='JSON object {"index": "label"} (expression only)')
    solve: bool = True
    steps: bool = False
    plot: bool = False


class PageUpload(BaseModel):
    """The multipart form of ``POST /api/page`` (OpenAPI documentation only; parsed by ``_read_page_upload``)."""

    file: bytes = Field(json_schema_extra={"format": "binary"}, description="a JPEG or PNG photo of the page")
    weights: WeightsName | None = None
    solve: bool = True


# ------------------------------------------------------------------------------------------------ POST /api/check
MAX_CHECK_LINES = 200  # lines of one solution (inkmath.equation.solve.check.MAX_LINES)
LineLatex = Annotated[str, Field(max_length=MAX_LATEX_CHARS)]


class CheckLineIn(BaseModel):
    """A line as read, sent back to be checked again (after the user picked one of its readings: confidence 1)."""

    model_config = ConfigDict(extra="forbid")
    latex: LineLatex
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    alternatives: list[tuple[LineLatex, Annotated[float, Field(ge=0.0, le=1.0)]]] = Field(default_factory=list,
                                                                                           max_length=10)
    box: list[float] | None = Field(None, min_length=4, max_length=4)


class CheckRequest(BaseModel):
    """Strokes of several written lines, or the lines themselves (typed LaTeX, or readings sent back): one of them."""

    model_config = ConfigDict(extra="forbid")
    strokes: Strokes | None = None
    lines: list[LineLatex | CheckLineIn] | None = Field(None, max_length=MAX_CHECK_LINES)
    weights: WeightsName | None = None


class CheckStep(BaseModel):
    latex: str
    verdict: Literal["given", "ok", "wrong", "unsure"]
    reason: str
    confidence: float
    box: list[float] | None = None
    mistake: str | None = None
    alternative: str | None = None
    alternatives: list[dict[str, Any]] = Field(default_factory=list,
                                               description="the reader's other readings of the line: {latex, "
                                                           "confidence}, best first (none for typed lines)")


class CheckResponse(BaseModel):
    file: str | None = None
    kind: str
    steps: list[CheckStep]
    first_wrong: int | None
    answer_right: bool | None
    next_step: dict[str, str] | None
    answer: str = ""
