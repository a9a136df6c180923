#version 450
#extension GL_ARB_shader_viewport_layer_array : require
// One instanced draw per (mesh, level of detail) for all views of a layered render pass. The
// per-instance attributes (binding 1, indexed by gl_InstanceIndex including firstInstance)
// are the frame's records [drawn (view, instance) pairs, bucketed by (pass, mesh, level)];
// each record sends its instance to its view's layer of the pass. Lighting (Lambert and a
// Blinn-Phong highlight) is evaluated per vertex: llvmpipe pays for every varying in
// triangle setup, and a level of detail keeps the mesh's normals. For the same reason the
// shader is built in variants (glslc -D): the shadow-map coordinates (PF_SHADOWS) and the
// texture coordinates (PF_TEXTURES) are interpolated only where the renderer uses them.

layout(location = 0) in vec3 in_position_G;  // mesh frame
layout(location = 1) in vec3 in_normal_G;
#ifdef PF_TEXTURES
layout(location = 2) in vec2 in_uv;          // binding 2; OpenGL convention: v = 0 at the image's bottom
#endif

layout(location = 3) in mat4 in_clip_from_G;    // Vulkan clip space from mesh frame (camera.h); 3..6
#ifdef PF_SHADOWS
layout(location = 7) in vec4 in_shadow_row0;    // shadow-map (u, v, depth) from mesh frame, rows; 7..9
layout(location = 8) in vec4 in_shadow_row1;
layout(location = 9) in vec4 in_shadow_row2;
#endif
layout(location = 10) in vec4 in_light_G;       // xyz: unit direction towards the light in the mesh
                                                //   frame's axes (R_WG^T), w: ambient fraction
layout(location = 11) in vec4 in_half_G;        // xyz: unit half vector (light + view), mesh axes;
                                                //   w: specular exponent, 0 = no highlight
layout(location = 12) in vec4 in_inv_scale;     // xyz: 1 / mesh scale per axis; w: texture layer (0 = none)
layout(location = 13) in vec4 in_colour;        // linear RGBA, rgb × light colour × intensity
layout(location = 14) in vec4 in_specular;      // rgb: light colour × intensity × specular strength
layout(location = 15) in uvec4 in_ids;          // segmentation id, semantic class, layer (= view),
                                                //   shadow-map layer (~0 = no shadow)

layout(location = 0) out vec2 out_light;  // x: direct (Lambert) fraction, y: highlight
#ifdef PF_TEXTURES
layout(location = 1) out vec2 out_uv;
#endif
#ifdef PF_SHADOWS
layout(location = 2) out vec3 out_shadow;
#endif
layout(location = 3) flat out vec4 out_colour;
layout(location = 4) flat out vec4 out_specular;  // rgb, w: ambient
layout(location = 5) flat out uvec4 out_ids;      // segmentation id, semantic class, shadow layer, texture layer

void main() {
  const vec4 p = vec4(in_position_G, 1.0);
  gl_Position = in_clip_from_G * p;
  gl_Layer = int(in_ids.z);
  // World normal ∝ R_WG S⁻¹ n_G, so n_W · l_W = (S⁻¹ n_G) · (R_WG^T l_W); the same for h.
  vec3 n = in_normal_G * in_inv_scale.xyz;
  n *= inversesqrt(max(dot(n, n), 1e-30));
  const float diffuse = max(dot(n, in_light_G.xyz), 0.0);
  const float highlight = diffuse > 0.0 && in_half_G.w > 0.0 ? pow(max(dot(n, in_half_G.xyz), 0.0), in_half_G.w) : 0.0;
  out_light = vec2(diffuse, highlight);
#ifdef PF_TEXTURES
  out_uv = vec2(in_uv.x, 1.0 - in_uv.y);
#endif
#ifdef PF_SHADOWS
  out_shadow = vec3(dot(in_shadow_row0, p), dot(in_shadow_row1, p), dot(in_shadow_row2, p));
#endif
  out_colour = in_colour;
  out_specular = vec4(in_specular.rgb, in_light_G.w);
  out_ids = uvec4(in_ids.xy, in_ids.w, uint(in_inv_scale.w));
}
