"""HTTP service and the web practice page (``hanzicheck serve``; ``create_app(settings)`` for any ASGI server).

Routes (OpenAPI at ``/openapi.json``, Swagger UI at ``/docs``):

- ``POST /v1/classify``, ``POST /v1/verify``, ``POST /v1/diagnose``: a drawing as JSON ``{"image": base64}`` or
  ``{"strokes": [[[x, y], ...], ...]}`` (rendered server-side), or a multipart upload (``image`` file field);
  ``top_k`` / ``target`` as JSON fields or form fields. Answers carry the CLI's JSON fields.
- ``GET /v1/chars`` (the 178 characters with pinyin), ``GET /healthz``, ``GET /version``.
- ``GET /model/model.onnx``, ``GET /model/templates.json``: what the page runs in the browser.
- ``GET /``: the practice page (``static/``: index.html, app.js, preprocess.js, style.css, chars.json, and the
  vendored onnxruntime-web and Swagger UI files).

Errors are ``{"error": code, "message": ..., "details": [...]}`` with a 4xx status for anything the client sent.
"""
