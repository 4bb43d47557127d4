/*{
	"DESCRIPTION": "Uses a companion .vs file that passes a varying",
	"ISFVSN": "2.0",
	"INPUTS": [{"NAME": "shift", "TYPE": "float", "DEFAULT": 0.5}]
}*/

in vec2 shifted;

void main() {
	gl_FragColor = vec4(shifted.x, 0.0, 0.0, 1.0);
}
