/*{
    "ISFVSN": "2.0",
    "DESCRIPTION": "Projected data dashboard: a slow animated backdrop under crisp numbers and sparklines drawn by Stovelight into the overlay image.",
    "CREDIT": "Stovelight",
    "CATEGORIES": ["Stovelight", "Dashboard"],
    "INPUTS": [
        {"NAME": "overlay", "TYPE": "image", "LABEL": "Numbers and sparklines (drawn by the renderer)"},
        {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0},
        {"NAME": "accent", "TYPE": "color", "DEFAULT": [1.0, 0.55, 0.15, 1.0]},
        {"NAME": "dim", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Backdrop brightness"}
    ]
}*/

void main() {
    vec2 p = isf_FragNormCoord;
    // Backdrop: a dark gradient tinted by the heat level with slow bands.
    vec3 cool = vec3(0.04, 0.07, 0.14);
    vec3 warm = accent.rgb * 0.35;
    float bands = 0.5 + 0.5 * sin(p.x * 6.0 + p.y * 3.0 + TIME * 0.3);
    vec3 back = mix(cool, warm, heat * (0.4 + 0.6 * p.y)) * (0.6 + 0.4 * bands) * dim;
    // Faint grid so the projection area is visible.
    vec2 g = abs(fract(p * vec2(16.0, 9.0)) - 0.5);
    back += vec3(0.03) * step(0.48, max(g.x, g.y)) * dim;
    vec4 front = IMG_THIS_NORM_PIXEL(overlay);
    gl_FragColor = vec4(mix(back, front.rgb, front.a), 1.0);
}
