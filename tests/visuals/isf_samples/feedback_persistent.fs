/*{
	"DESCRIPTION": "Feedback trail with a persistent float buffer",
	"ISFVSN": "2",
	"INPUTS": [
		{"NAME": "decay", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0},
		{"NAME": "inject", "TYPE": "float", "DEFAULT": 1.0}
	],
	"PASSES": [
		{"TARGET": "accum", "PERSISTENT": true, "FLOAT": true},
		{}
	]
}*/

void main() {
	if (PASSINDEX == 0) {
		vec4 previous = IMG_THIS_PIXEL(accum);
		// Each frame: keep decay of the old value and add inject (no clamping in a float buffer).
		gl_FragColor = vec4(previous.r * decay + inject, float(FRAMEINDEX), TIMEDELTA, 1.0);
	}
	else {
		vec4 a = IMG_THIS_NORM_PIXEL(accum);
		gl_FragColor = vec4(a.r / 4.0, a.g / 255.0, a.b, 1.0);
	}
}
