/*{
    "ISFVSN": "2.0",
    "DESCRIPTION": "Glowing heat field: four stove burners whose glow follows live stovetop temperatures.",
    "CREDIT": "Stovelight",
    "CATEGORIES": ["Stovelight", "Generator"],
    "INPUTS": [
        {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Overall heat"},
        {"NAME": "stove1", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Burner 1"},
        {"NAME": "stove2", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0, "LABEL": "Burner 2"},
        {"NAME": "stove3", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Burner 3"},
        {"NAME": "stove4", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 1.0, "LABEL": "Burner 4"},
        {"NAME": "flicker", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Flicker"}
    ]
}*/

// Value noise from a cheap hash; smooth enough for flames at any resolution.
float hash21(vec2 p) {
    p = fract(p * vec2(123.34, 456.21));
    p += dot(p, p + 45.32);
    return fract(p.x * p.y);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash21(i), hash21(i + vec2(1.0, 0.0)), u.x),
               mix(hash21(i + vec2(0.0, 1.0)), hash21(i + vec2(1.0, 1.0)), u.x), u.y);
}

float fbm(vec2 p) {
    float v = 0.0;
    float a = 0.5;
    for (int i = 0; i < 4; i++) {
        v += a * noise(p);
        p *= 2.03;
        a *= 0.5;
    }
    return v;
}

// Black body-ish ramp: black, deep red, orange, yellow, white.
vec3 heatColor(float t) {
    t = clamp(t, 0.0, 1.0);
    vec3 c = vec3(0.0);
    c = mix(c, vec3(0.55, 0.02, 0.0), smoothstep(0.0, 0.3, t));
    c = mix(c, vec3(1.0, 0.38, 0.02), smoothstep(0.25, 0.6, t));
    c = mix(c, vec3(1.0, 0.85, 0.3), smoothstep(0.55, 0.85, t));
    c = mix(c, vec3(1.0, 1.0, 0.92), smoothstep(0.85, 1.0, t));
    return c;
}

// One flame field is shared by all burners (fbm is the expensive part at 4K).
float burner(vec2 uv, vec2 center, float level, float rise) {
    vec2 d = uv - center;
    float r = length(d);
    float ring = exp(-pow((r - 0.11) * 22.0, 2.0)) + 0.6 * exp(-pow((r - 0.05) * 30.0, 2.0));
    float glow = exp(-r * r * 18.0) * (0.6 + 0.8 * rise);
    return level * (ring * 0.8 + glow);
}

void main() {
    float aspect = RENDERSIZE.x / max(RENDERSIZE.y, 1.0);
    vec2 uv = vec2((isf_FragNormCoord.x - 0.5) * aspect, isf_FragNormCoord.y - 0.5);
    float t = TIME;
    float f = 1.0 + flicker * 0.25 * (noise(vec2(t * 7.0, 1.0)) - 0.5);
    float rise = fbm(vec2(uv.x * 9.0, uv.y * 5.0 - t * 1.7));
    float h = 0.0;
    h += burner(uv, vec2(-0.28, 0.16), stove1, rise);
    h += burner(uv, vec2(0.28, 0.16), stove2, rise);
    h += burner(uv, vec2(-0.28, -0.2), stove3, rise);
    h += burner(uv, vec2(0.28, -0.2), stove4, rise);
    float ambient = heat * 0.35 * noise(uv * 6.0 + vec2(0.0, -t * 0.8));
    float v = (h * 0.55 + ambient) * (0.35 + 0.65 * heat) * f;
    gl_FragColor = vec4(heatColor(v), 1.0);
}
