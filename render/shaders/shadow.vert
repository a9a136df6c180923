#version 450
#extension GL_ARB_shader_viewport_layer_array : require
// Shadow maps: depth only, one layer per env of the pass. The records are batch.vert's, with
// the light's clip-from-mesh matrix in place of the camera's and the env's map as the layer.

layout(location = 0) in vec3 in_position_G;
layout(location = 3) in mat4 in_clip_from_G;  // 3..6
layout(location = 15) in uvec4 in_ids;        // z: layer

void main() {
  gl_Position = in_clip_from_G * vec4(in_position_G, 1.0);
  gl_Layer = int(in_ids.z);
}
