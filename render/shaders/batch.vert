#version 450
// One instanced draw per (view, mesh): gl_InstanceIndex (which includes firstInstance)
// indexes the per-frame instance records [num_envs × visible instances, grouped by mesh].

layout(location = 0) in vec3 in_position_G;  // mesh frame
layout(location = 1) in vec3 in_normal_G;

struct Instance {
  mat4 X_WG_scaled;     // world from mesh: X_WB * X_BG * diag(scale)
  vec4 normal_W[3];     // columns of inverse-transpose of the linear part (xyz)
  vec4 colour;          // linear RGBA
  uvec4 ids;            // x = segmentation id, y = semantic class id
};
layout(std430, set = 0, binding = 0) readonly buffer Instances { Instance instances[]; };

layout(push_constant) uniform View {
  mat4 clip_from_world;  // Vulkan clip space from world (OpenCV pinhole, see camera.h)
  vec4 z_row_CW;         // third row of X_CW: z_C = dot(z_row_CW, p_W)
  vec4 light_dir_W;      // xyz: direction the light travels
  vec4 light;            // rgb: colour * intensity, a: ambient fraction
} view;

layout(location = 0) out vec3 out_normal_W;
layout(location = 1) out float out_z_C;
layout(location = 2) flat out vec4 out_colour;
layout(location = 3) flat out uvec2 out_ids;

void main() {
  Instance inst = instances[gl_InstanceIndex];
  vec4 p_W = inst.X_WG_scaled * vec4(in_position_G, 1.0);
  gl_Position = view.clip_from_world * p_W;
  out_z_C = dot(view.z_row_CW, p_W);
  out_normal_W = mat3(inst.normal_W[0].xyz, inst.normal_W[1].xyz, inst.normal_W[2].xyz) * in_normal_G;
  out_colour = inst.colour;
  out_ids = inst.ids.xy;
}
