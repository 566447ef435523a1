// api-docs.js — start the vendored Swagger UI on /api/v1/docs (no inline script under the CSP).
/* global SwaggerUIBundle */
(function start() {
  const el = document.getElementById('swagger-ui');
  if (!el || typeof SwaggerUIBundle !== 'function') return;
  SwaggerUIBundle({
    url: el.dataset.spec,
    dom_id: '#swagger-ui',
    deepLinking: false, // no links inside the operation buttons (axe: nested-interactive)
    defaultModelsExpandDepth: -1, // the schemas are in openapi.json; no low-contrast model widgets
    supportedSubmitMethods: [], // a read-only reference: no "Try it out"
    validatorUrl: null,
  });
}());
