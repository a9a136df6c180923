#version 450
// Colour (Lambert + ambient), linear z-depth in metres, segmentation and semantic ids.

layout(location = 0) in vec3 in_normal_W;
layout(location = 1) in float in_z_C;
layout(location = 2) flat in vec4 in_colour;
layout(location = 3) flat in uvec2 in_ids;

layout(push_constant) uniform View {
  mat4 clip_from_world;
  vec4 z_row_CW;
  vec4 light_dir_W;
  vec4 light;
} view;

layout(location = 0) out vec4 out_colour;
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_instance;
layout(location = 3) out uint out_semantic;

void main() {
  vec3 n = normalize(in_normal_W);
  if (!gl_FrontFacing) n = -n;
  float diffuse = max(dot(n, -view.light_dir_W.xyz), 0.0);
  vec3 lit = in_colour.rgb * view.light.rgb * (view.light.a + (1.0 - view.light.a) * diffuse);
  out_colour = vec4(clamp(lit, 0.0, 1.0), in_colour.a);
  out_depth = in_z_C;
  out_instance = in_ids.x;
  out_semantic = in_ids.y;
}
