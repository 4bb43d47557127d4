"""Live visuals: ISF 2.0 scenes rendered with moderngl.

Modules: :mod:`visuals.isf` (parse), :mod:`visuals.glsl` (translate), :mod:`visuals.renderer`
(one scene), :mod:`visuals.compositor` (scenes, transitions, modes), :mod:`visuals.process`
(renderer child process), :mod:`visuals.window` (output window), :mod:`visuals.render_cli`
(``stovelight render``). Errors derive from :class:`visuals.errors.VisualsError`.
"""

__all__: list[str] = []
