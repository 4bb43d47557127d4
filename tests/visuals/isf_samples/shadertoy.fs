// A Shadertoy-style shader with no ISF header.
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    fragColor = vec4(uv.x, fract(iTime), float(iFrame) / 255.0, 1.0);
}
