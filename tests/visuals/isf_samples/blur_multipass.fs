/*{
	"DESCRIPTION": "Two-pass box blur through a third-size buffer, in the style of public ISF collections",
	"CREDIT": "Stovelight test sample",
	"ISFVSN": "2.0",
	"CATEGORIES": ["Blur"],
	"INPUTS": [
		{"NAME": "inputImage", "TYPE": "image"},
		{"NAME": "radius", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 4.0}
	],
	"PASSES": [
		{"TARGET": "smallBuffer", "WIDTH": "floor($WIDTH/3.0)", "HEIGHT": "floor($HEIGHT/3.0)"},
		{}
	]
}*/

void main() {
	if (PASSINDEX == 0) {
		vec2 texel = 1.0 / IMG_SIZE(inputImage);
		vec4 sum = vec4(0.0);
		for (int x = -1; x <= 1; x++) {
			for (int y = -1; y <= 1; y++) {
				sum += IMG_NORM_PIXEL(inputImage, isf_FragNormCoord + vec2(x, y) * texel * radius);
			}
		}
		gl_FragColor = sum / 9.0;
	}
	else {
		// Report the buffer size in green/blue so the test can check the expression.
		vec4 blurred = IMG_NORM_PIXEL(smallBuffer, isf_FragNormCoord);
		gl_FragColor = vec4(blurred.r, IMG_SIZE(smallBuffer) / 255.0, 1.0);
	}
}
