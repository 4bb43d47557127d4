

   	/*{
	"DESCRIPTION": "Whitespace before the header, a bool DEFAULT given as 1, and an unused input",
	"INPUTS": [
		{"NAME": "invert", "TYPE": "bool", "DEFAULT": 1},
		{"NAME": "unusedLevel", "TYPE": "float", "DEFAULT": 0.5},
		{"NAME": "tint", "TYPE": "color", "DEFAULT": [1.0, 0.5, 0.0, 1.0]},
		{"NAME": "mode", "TYPE": "long", "VALUES": [0, 1, 2], "LABELS": ["Red", "Green", "Blue"], "DEFAULT": 1},
		{"NAME": "flash", "TYPE": "event"},
		{"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.25, 0.75]},
	]
}*/

void main()	{
	vec3 c = tint.rgb;
	if (mode == 2) c = vec3(0.0, 0.0, 1.0);
	if (invert) c = 1.0 - c;
	if (flash) c = vec3(1.0);
	gl_FragColor = vec4(c, center.x);
}
