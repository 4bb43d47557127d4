/*{
    "ISFVSN": "2.0",
    "DESCRIPTION": "Energy flowing between homes: supply comes in from the left, demand drains to the right, exchange pulses between two rows of homes.",
    "CREDIT": "Stovelight",
    "CATEGORIES": ["Stovelight", "Generator"],
    "INPUTS": [
        {"NAME": "supply", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Supply"},
        {"NAME": "demand", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.0, "LABEL": "Demand"},
        {"NAME": "exchange", "TYPE": "float", "DEFAULT": 0.2, "MIN": -1.0, "MAX": 1.0, "LABEL": "Exchange (+ up, - down)"},
        {"NAME": "supplyColor", "TYPE": "color", "DEFAULT": [0.2, 0.85, 0.6, 1.0]},
        {"NAME": "demandColor", "TYPE": "color", "DEFAULT": [1.0, 0.45, 0.15, 1.0]}
    ]
}*/

const int HOMES = 5;

float hash11(float n) {
    return fract(sin(n * 91.345) * 47453.5453);
}

// A lane of particles moving along x at a speed; returns brightness at p.
float particles(vec2 p, float laneY, float speed, float density, float seed) {
    float v = 0.0;
    for (int i = 0; i < 12; i++) {
        float fi = float(i);
        if (fi >= density * 12.0) {
            break;
        }
        float offset = hash11(fi + seed);
        float x = fract(offset + TIME * speed * (0.6 + 0.4 * hash11(fi * 3.1 + seed)));
        float y = laneY + (hash11(fi * 7.7 + seed) - 0.5) * 0.05;
        vec2 d = p - vec2(x, y);
        d.x *= RENDERSIZE.x / max(RENDERSIZE.y, 1.0);
        v += exp(-dot(d, d) * 4000.0);
    }
    return v;
}

float homeShape(vec2 p, vec2 c, float s) {
    vec2 d = abs(p - c);
    float body = step(d.x, s) * step(d.y, s * 0.7) * step(p.y, c.y + s * 0.7);
    float roof = step(abs(p.x - c.x) + (p.y - c.y - s * 0.7), s) * step(c.y + s * 0.7, p.y);
    return max(body, roof);
}

void main() {
    vec2 p = isf_FragNormCoord;
    vec3 col = vec3(0.02, 0.03, 0.06) + 0.05 * vec3(0.1, 0.2, 0.4) * p.y;

    // Supply lane (top) and demand lane (bottom).
    float sup = particles(p, 0.8, 0.25 + supply * 0.5, supply, 1.0);
    float dem = particles(p, 0.2, 0.25 + demand * 0.5, demand, 17.0);
    col += supplyColor.rgb * sup * 1.5;
    col += demandColor.rgb * dem * 1.5;
    col += supplyColor.rgb * 0.25 * supply * exp(-pow((p.y - 0.8) * 30.0, 2.0));
    col += demandColor.rgb * 0.25 * demand * exp(-pow((p.y - 0.2) * 30.0, 2.0));

    // Homes on two rows with vertical exchange links between them.
    float aspect = RENDERSIZE.x / max(RENDERSIZE.y, 1.0);
    for (int i = 0; i < HOMES; i++) {
        float x = (float(i) + 0.5) / float(HOMES);
        vec2 q = vec2((p.x - x) * aspect, p.y);
        col += vec3(0.75) * homeShape(vec2(q.x, p.y), vec2(0.0, 0.62), 0.035);
        col += vec3(0.75) * homeShape(vec2(q.x, p.y), vec2(0.0, 0.36), 0.035);
        float link = exp(-pow(q.x * 120.0, 2.0)) * step(0.40, p.y) * step(p.y, 0.58);
        float dir = sign(exchange);
        float pulse = 0.5 + 0.5 * sin((p.y * 40.0 - dir * TIME * 6.0) + float(i));
        col += mix(demandColor.rgb, supplyColor.rgb, 0.5 + 0.5 * dir) * link * abs(exchange) * pulse;
    }
    gl_FragColor = vec4(col, 1.0);
}
