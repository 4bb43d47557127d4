out vec2 shifted;

void main() {
	isf_vertShaderInit();
	shifted = vec2(isf_FragNormCoord.x * shift, 0.0);
}
