#version 450
// Colour (ambient + Lambert shaded per vertex, times the texture, plus a highlight; the
// directional light's part is dimmed by the shadow map), z-depth in metres, segmentation and
// semantic ids. Variants as batch.vert's (PF_SHADOWS, PF_TEXTURES).

layout(set = 0, binding = 0) uniform sampler2DArray textures;           // layer 0 is white
layout(set = 0, binding = 1) uniform sampler2DArrayShadow shadow_maps;  // one layer per env of the pass

layout(location = 0) in vec2 in_light;
#ifdef PF_TEXTURES
layout(location = 1) in vec2 in_uv;
#endif
#ifdef PF_SHADOWS
layout(location = 2) in vec3 in_shadow;
#endif
layout(location = 3) flat in vec4 in_colour;
layout(location = 4) flat in vec4 in_specular;
layout(location = 5) flat in uvec4 in_ids;

layout(location = 0) out vec4 out_colour;
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_instance;
layout(location = 3) out uint out_semantic;

void main() {
  vec3 base = in_colour.rgb;
#ifdef PF_TEXTURES
  if (in_ids.w != 0u) base *= texture(textures, vec3(in_uv, float(in_ids.w))).rgb;
#endif
  float lit = 1.0;
#ifdef PF_SHADOWS
  // Outside the map (nothing there casts) or beyond its far plane: lit unless a caster
  // stored a nearer depth.
  if (in_ids.z != 0xFFFFFFFFu)
    lit = texture(shadow_maps, vec4(in_shadow.xy, float(in_ids.z), clamp(in_shadow.z, 0.0, 1.0)));
#endif
  const float ambient = in_specular.w;
  const float shade = ambient + (1.0 - ambient) * in_light.x * lit;
  out_colour = vec4(clamp(base * shade + in_specular.rgb * (in_light.y * lit), 0.0, 1.0), in_colour.a);
  // gl_FragCoord.w is 1 / w_clip, and w_clip is the camera z-depth (camera.h).
  out_depth = 1.0 / gl_FragCoord.w;
  out_instance = in_ids.x;
  out_semantic = in_ids.y;
}
