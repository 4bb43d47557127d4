/*{
    "DESCRIPTION": "Black: what the projector shows after a panic or when a show asks for nothing.",
    "CREDIT": "Stovelight",
    "ISFVSN": "2",
    "CATEGORIES": ["Utility"],
    "INPUTS": []
}*/

void main() {
    gl_FragColor = vec4(0.0, 0.0, 0.0, 1.0);
}
