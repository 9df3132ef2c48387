"""Reference sandboxes: conformant in-memory HCW@Home and Leah servers with fault switches.

They are an independent oracle: nothing here imports teleconform's checks, specs or runner.

``hcw/`` and ``leah/`` are laid out alike: ``_app`` (create_app: the route table and error
handlers), ``_context`` (the per-app ``Sandbox`` and the per-request ``Ctx``), ``_store``
(state, seeded CREDENTIALS), ``_auth``, ``_validation`` (request checks), ``_render``
(response bodies, errors), one module per resource's handlers, ``_inventory`` (test control),
``_faults`` and ``_profiles``. Handlers are plain ``async def handler(ctx) -> Response``
functions: the state lives in the store and the settings in ``ctx``, so no handler object is
needed, and the faults of a request are decided once, where ``ctx`` is built.
"""
