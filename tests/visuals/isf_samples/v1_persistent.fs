/*{
	"DESCRIPTION": "ISF version 1 file: PERSISTENT_BUFFERS and vv_FragNormCoord",
	"CREDIT": "Stovelight test sample",
	"CATEGORIES": ["Feedback"],
	"INPUTS": [
		{"NAME": "amount", "TYPE": "float", "DEFAULT": 0.25, "MIN": 0.0, "MAX": 1.0}
	],
	"PERSISTENT_BUFFERS": ["lastFrame"],
	"PASSES": [
		{"TARGET": "lastFrame"}
	]
}*/

void main() {
	vec4 last = IMG_NORM_PIXEL(lastFrame, vv_FragNormCoord);
	gl_FragColor = vec4(min(last.r + amount, 1.0), vv_FragNormCoord.x, vv_FragNormCoord.y, 1.0);
}
