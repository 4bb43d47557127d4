/*{
	"DESCRIPTION": "Left-to-right wipe transition",
	"ISFVSN": "2.0",
	"CATEGORIES": ["Wipe"],
	"INPUTS": [
		{"NAME": "startImage", "TYPE": "image"},
		{"NAME": "endImage", "TYPE": "image"},
		{"NAME": "progress", "TYPE": "float", "MIN": 0.0, "MAX": 1.0, "DEFAULT": 0.0}
	]
}*/

void main() {
	vec4 a = IMG_NORM_PIXEL(startImage, isf_FragNormCoord);
	vec4 b = IMG_NORM_PIXEL(endImage, isf_FragNormCoord);
	gl_FragColor = isf_FragNormCoord.x < progress ? b : a;
}
