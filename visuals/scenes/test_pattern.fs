/*{
    "ISFVSN": "2.0",
    "DESCRIPTION": "Projector test pattern: pixel grid, centre and corner circles, colour bars, resolution text in the overlay image.",
    "CREDIT": "Stovelight",
    "CATEGORIES": ["Stovelight", "Utility"],
    "INPUTS": [
        {"NAME": "overlay", "TYPE": "image", "LABEL": "Resolution text (drawn by the renderer)"},
        {"NAME": "gridSpacing", "TYPE": "float", "DEFAULT": 64.0, "MIN": 8.0, "MAX": 512.0, "LABEL": "Grid spacing (px)"},
        {"NAME": "moving", "TYPE": "bool", "DEFAULT": 1, "LABEL": "Moving marker (shows dropped frames)"}
    ]
}*/

float circleLine(vec2 px, vec2 c, float r, float w) {
    return 1.0 - smoothstep(w * 0.5, w * 0.5 + 1.0, abs(length(px - c) - r));
}

void main() {
    vec2 px = gl_FragCoord.xy;
    vec2 p = isf_FragNormCoord;
    vec3 col = vec3(0.12);

    // Colour bars across the middle band.
    if (p.y > 0.38 && p.y < 0.62) {
        int bar = int(floor(p.x * 8.0));
        vec3 bars[8] = vec3[8](vec3(1.0), vec3(1.0, 1.0, 0.0), vec3(0.0, 1.0, 1.0), vec3(0.0, 1.0, 0.0),
                               vec3(1.0, 0.0, 1.0), vec3(1.0, 0.0, 0.0), vec3(0.0, 0.0, 1.0), vec3(0.0));
        col = bars[bar] * 0.75;
    }
    // Grey ramp at the bottom.
    if (p.y < 0.1) {
        col = vec3(floor(p.x * 16.0) / 15.0);
    }

    // Grid lines every gridSpacing pixels, 1 px wide, with the border drawn.
    vec2 g = mod(px, gridSpacing);
    float grid = max(step(g.x, 1.0), step(g.y, 1.0));
    float border = max(step(px.x, 2.0), step(px.y, 2.0));
    border = max(border, max(step(RENDERSIZE.x - 2.0, px.x), step(RENDERSIZE.y - 2.0, px.y)));
    col = mix(col, vec3(0.85), max(grid * 0.6, border));

    // Circles: one centred (tests aspect ratio), one in each corner.
    float m = min(RENDERSIZE.x, RENDERSIZE.y);
    float c = circleLine(px, RENDERSIZE * 0.5, m * 0.45, 2.0);
    vec2 corner = vec2(m * 0.12);
    c = max(c, circleLine(px, corner, m * 0.1, 2.0));
    c = max(c, circleLine(px, vec2(RENDERSIZE.x - corner.x, corner.y), m * 0.1, 2.0));
    c = max(c, circleLine(px, vec2(corner.x, RENDERSIZE.y - corner.y), m * 0.1, 2.0));
    c = max(c, circleLine(px, RENDERSIZE - corner, m * 0.1, 2.0));
    col = mix(col, vec3(1.0), c);

    // A marker sweeping once per second: judder means dropped frames.
    if (moving) {
        float x = fract(TIME) * RENDERSIZE.x;
        col = mix(col, vec3(1.0, 0.2, 0.1), step(abs(px.x - x), 3.0) * step(RENDERSIZE.y * 0.92, px.y));
    }

    vec4 text = IMG_THIS_NORM_PIXEL(overlay);
    gl_FragColor = vec4(mix(col, text.rgb, text.a), 1.0);
}
