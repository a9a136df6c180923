// parafab inspect: a dataset's summary, contact sheets and trajectory plots (inspect.h).
//
// Everything drawn here is drawn by this file: an RGB canvas, a 5×9-cell pixel font
// (printable ASCII, designed for this file), antialiased lines and discs, a depth colour
// map and the plots' axes.
#include "pf/datagen/inspect.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "pf/core/str.h"
#include "pf/datagen/hdf5.h"
#include "pf/datagen/manifest.h"
#include "pf/datagen/png.h"

namespace pf::datagen {
namespace {

namespace fs = std::filesystem;
using core::Fail;
using core::Location;
using core::StrCat;
using nlohmann::json;

// ---------------------------------------------------------------------------------------
// Canvas and drawing.

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

constexpr Rgb kBackground{34, 34, 38};
constexpr Rgb kPanel{22, 22, 26};
constexpr Rgb kText{228, 228, 228};
constexpr Rgb kDimText{150, 150, 158};
constexpr Rgb kGrid{52, 52, 58};
constexpr Rgb kAxis{140, 140, 148};
constexpr Rgb kGood{110, 210, 120};
constexpr Rgb kBad{240, 100, 90};

// An 8-bit RGB image; drawing outside it is clipped.
class Canvas {
 public:
  Canvas(int width, int height, Rgb fill) : width_(width), height_(height) {
    pixels_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
    for (std::size_t i = 0; i < pixels_.size(); i += 3) {
      pixels_[i] = fill.r;
      pixels_[i + 1] = fill.g;
      pixels_[i + 2] = fill.b;
    }
  }
  int width() const { return width_; }
  int height() const { return height_; }
  const std::uint8_t* data() const { return pixels_.data(); }

  bool Inside(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }
  void Set(int x, int y, Rgb c) {
    if (!Inside(x, y)) return;
    std::uint8_t* p = At(x, y);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
  // Mixes `c` over the pixel with opacity alpha ∈ [0, 1].
  void Blend(int x, int y, Rgb c, double alpha) {
    if (!Inside(x, y) || alpha <= 0.0) return;
    alpha = std::min(alpha, 1.0);
    std::uint8_t* p = At(x, y);
    p[0] = Mix(p[0], c.r, alpha);
    p[1] = Mix(p[1], c.g, alpha);
    p[2] = Mix(p[2], c.b, alpha);
  }
  void FillRect(int x, int y, int w, int h, Rgb c) {
    for (int yy = std::max(y, 0); yy < std::min(y + h, height_); ++yy)
      for (int xx = std::max(x, 0); xx < std::min(x + w, width_); ++xx) Set(xx, yy, c);
  }
  void BlendRect(int x, int y, int w, int h, Rgb c, double alpha) {
    for (int yy = std::max(y, 0); yy < std::min(y + h, height_); ++yy)
      for (int xx = std::max(x, 0); xx < std::min(x + w, width_); ++xx) Blend(xx, yy, c, alpha);
  }
  // The outline of [x, x + w) × [y, y + h), `thickness` pixels inwards.
  void Outline(int x, int y, int w, int h, Rgb c, int thickness) {
    FillRect(x, y, w, thickness, c);
    FillRect(x, y + h - thickness, w, thickness, c);
    FillRect(x, y, thickness, h, c);
    FillRect(x + w - thickness, y, thickness, h, c);
  }

 private:
  static std::uint8_t Mix(std::uint8_t a, std::uint8_t b, double alpha) {
    return static_cast<std::uint8_t>(std::lround(a + (b - a) * alpha));
  }
  std::uint8_t* At(int x, int y) {
    return pixels_.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  }

  int width_, height_;
  std::vector<std::uint8_t> pixels_;  // [height × width × 3]
};

// The pixel font: printable ASCII 32..126 in cells 5 wide and 9 tall. Rows 0..6 lie above
// the baseline (capitals and digits fill them; lower case starts at row 2), rows 7 and 8
// hold descenders. One byte per row, bit 4 = leftmost column.
constexpr int kGlyphWidth = 5;
constexpr int kGlyphRows = 9;
constexpr int kAdvance = 6;      // glyph + one column of space
constexpr int kLineHeight = 11;  // glyph + two rows of space
constexpr std::array<std::array<std::uint8_t, kGlyphRows>, 95> kFont = {{
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // ' '
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04, 0x00, 0x00},  // '!'
    {0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // '"'
    {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a, 0x00, 0x00},  // '#'
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04, 0x00, 0x00},  // '$'
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03, 0x00, 0x00},  // '%'
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d, 0x00, 0x00},  // '&'
    {0x04, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // apostrophe
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02, 0x00, 0x00},  // '('
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08, 0x00, 0x00},  // ')'
    {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00, 0x00, 0x00},  // '*'
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00, 0x00, 0x00},  // '+'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x04, 0x08},  // ','
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00},  // '-'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x00, 0x00},  // '.'
    {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10, 0x00, 0x00},  // '/'
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e, 0x00, 0x00},  // '0'
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00, 0x00},  // '1'
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f, 0x00, 0x00},  // '2'
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e, 0x00, 0x00},  // '3'
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02, 0x00, 0x00},  // '4'
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e, 0x00, 0x00},  // '5'
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e, 0x00, 0x00},  // '6'
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00, 0x00},  // '7'
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e, 0x00, 0x00},  // '8'
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c, 0x00, 0x00},  // '9'
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00, 0x00, 0x00},  // ':'
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x04, 0x08, 0x00},  // ';'
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02, 0x00, 0x00},  // '<'
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00},  // '='
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08, 0x00, 0x00},  // '>'
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00, 0x00},  // '?'
    {0x0e, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0e, 0x00, 0x00},  // '@'
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11, 0x00, 0x00},  // 'A'
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e, 0x00, 0x00},  // 'B'
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e, 0x00, 0x00},  // 'C'
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c, 0x00, 0x00},  // 'D'
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f, 0x00, 0x00},  // 'E'
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10, 0x00, 0x00},  // 'F'
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f, 0x00, 0x00},  // 'G'
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11, 0x00, 0x00},  // 'H'
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00, 0x00},  // 'I'
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c, 0x00, 0x00},  // 'J'
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11, 0x00, 0x00},  // 'K'
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f, 0x00, 0x00},  // 'L'
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00, 0x00},  // 'M'
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x00, 0x00},  // 'N'
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e, 0x00, 0x00},  // 'O'
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10, 0x00, 0x00},  // 'P'
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d, 0x00, 0x00},  // 'Q'
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11, 0x00, 0x00},  // 'R'
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e, 0x00, 0x00},  // 'S'
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00},  // 'T'
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e, 0x00, 0x00},  // 'U'
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04, 0x00, 0x00},  // 'V'
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a, 0x00, 0x00},  // 'W'
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11, 0x00, 0x00},  // 'X'
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00},  // 'Y'
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f, 0x00, 0x00},  // 'Z'
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e, 0x00, 0x00},  // '['
    {0x10, 0x10, 0x08, 0x04, 0x02, 0x01, 0x01, 0x00, 0x00},  // backslash
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e, 0x00, 0x00},  // ']'
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // '^'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00},  // '_'
    {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // '`'
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f, 0x00, 0x00},  // 'a'
    {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x1e, 0x00, 0x00},  // 'b'
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e, 0x00, 0x00},  // 'c'
    {0x01, 0x01, 0x0f, 0x11, 0x11, 0x11, 0x0f, 0x00, 0x00},  // 'd'
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e, 0x00, 0x00},  // 'e'
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08, 0x00, 0x00},  // 'f'
    {0x00, 0x00, 0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e},  // 'g'
    {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00},  // 'h'
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e, 0x00, 0x00},  // 'i'
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c},  // 'j'
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00, 0x00},  // 'k'
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00, 0x00},  // 'l'
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x15, 0x15, 0x00, 0x00},  // 'm'
    {0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00},  // 'n'
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e, 0x00, 0x00},  // 'o'
    {0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x1e, 0x10, 0x10},  // 'p'
    {0x00, 0x00, 0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x01},  // 'q'
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00, 0x00},  // 'r'
    {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e, 0x00, 0x00},  // 's'
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06, 0x00, 0x00},  // 't'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d, 0x00, 0x00},  // 'u'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04, 0x00, 0x00},  // 'v'
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a, 0x00, 0x00},  // 'w'
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x00, 0x00},  // 'x'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e},  // 'y'
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f, 0x00, 0x00},  // 'z'
    {0x03, 0x04, 0x04, 0x08, 0x04, 0x04, 0x03, 0x00, 0x00},  // '{'
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00},  // '|'
    {0x18, 0x04, 0x04, 0x02, 0x04, 0x04, 0x18, 0x00, 0x00},  // '}'
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00, 0x00, 0x00},  // '~'
}};

// The glyphs of `text`: printable ASCII as itself; every other character (a control
// byte, or one UTF-8 sequence) as '?'.
std::string Printable(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    out += (c >= 32 && c < 127) ? ch : '?';
  }
  return out;
}

int TextWidth(std::string_view text, int scale) {
  const int n = static_cast<int>(Printable(text).size());
  return n == 0 ? 0 : (n * kAdvance - 1) * scale;
}

// Draws `text` with its top-left corner at (x, y); each font pixel is scale × scale.
void DrawText(Canvas& canvas, int x, int y, std::string_view text, Rgb colour, int scale = 1) {
  for (const char ch : Printable(text)) {
    const auto& glyph = kFont[static_cast<std::size_t>(static_cast<unsigned char>(ch) - 32)];
    for (int row = 0; row < kGlyphRows; ++row)
      for (int col = 0; col < kGlyphWidth; ++col)
        if ((glyph[static_cast<std::size_t>(row)] >> (kGlyphWidth - 1 - col)) & 1)
          canvas.FillRect(x + col * scale, y + row * scale, scale, scale, colour);
    x += kAdvance * scale;
  }
}

// Splits `text` into lines of at most `max_width` pixels at `scale`, breaking at spaces
// (a word longer than a line is cut).
std::vector<std::string> WrapText(std::string_view text, int max_width, int scale) {
  const std::size_t max_chars = static_cast<std::size_t>(std::max(1, (max_width / scale + 1) / kAdvance));
  std::vector<std::string> lines;
  std::string line;
  std::istringstream words{Printable(text)};
  std::string word;
  while (words >> word) {
    while (word.size() > max_chars) {
      if (!line.empty()) lines.push_back(std::exchange(line, {}));
      lines.push_back(word.substr(0, max_chars));
      word.erase(0, max_chars);
    }
    if (line.empty()) line = word;
    else if (line.size() + 1 + word.size() <= max_chars) line += " " + word;
    else lines.push_back(std::exchange(line, word));
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

struct Point {
  double x = 0.0, y = 0.0;
};

// An antialiased polyline `width` pixels wide: coverage is the distance to the nearest
// segment, taken once per pixel (so joints are not drawn twice).
void DrawPolyline(Canvas& canvas, const std::vector<Point>& points, Rgb colour, double width) {
  if (points.size() < 2) return;
  const double r = width / 2.0;
  double min_x = points[0].x, max_x = min_x, min_y = points[0].y, max_y = min_y;
  for (const Point& p : points) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  const int x0 = std::max(0, static_cast<int>(std::floor(min_x - r - 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(min_y - r - 1)));
  const int x1 = std::min(canvas.width() - 1, static_cast<int>(std::ceil(max_x + r + 1)));
  const int y1 = std::min(canvas.height() - 1, static_cast<int>(std::ceil(max_y + r + 1)));
  if (x1 < x0 || y1 < y0) return;
  const int w = x1 - x0 + 1, h = y1 - y0 + 1;
  std::vector<float> coverage(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 0.0f);
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    const Point a = points[i], b = points[i + 1];
    const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    const int sx0 = std::max(x0, static_cast<int>(std::floor(std::min(a.x, b.x) - r - 1)));
    const int sx1 = std::min(x1, static_cast<int>(std::ceil(std::max(a.x, b.x) + r + 1)));
    const int sy0 = std::max(y0, static_cast<int>(std::floor(std::min(a.y, b.y) - r - 1)));
    const int sy1 = std::min(y1, static_cast<int>(std::ceil(std::max(a.y, b.y) + r + 1)));
    for (int y = sy0; y <= sy1; ++y) {
      for (int x = sx0; x <= sx1; ++x) {
        const double px = x + 0.5, py = y + 0.5;
        const double t = len2 > 0.0 ? std::clamp(((px - a.x) * dx + (py - a.y) * dy) / len2, 0.0, 1.0) : 0.0;
        const double d = std::hypot(px - (a.x + t * dx), py - (a.y + t * dy));
        const auto c = static_cast<float>(std::clamp(r + 0.5 - d, 0.0, 1.0));
        float& cell = coverage[static_cast<std::size_t>(y - y0) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x - x0)];
        cell = std::max(cell, c);
      }
    }
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      canvas.Blend(x0 + x, y0 + y, colour, coverage[static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)]);
}

// An antialiased filled disc.
void FillDisc(Canvas& canvas, double cx, double cy, double radius, Rgb colour) {
  for (int y = static_cast<int>(std::floor(cy - radius - 1)); y <= static_cast<int>(std::ceil(cy + radius + 1)); ++y)
    for (int x = static_cast<int>(std::floor(cx - radius - 1)); x <= static_cast<int>(std::ceil(cx + radius + 1)); ++x)
      canvas.Blend(x, y, colour, std::clamp(radius + 0.5 - std::hypot(x + 0.5 - cx, y + 0.5 - cy), 0.0, 1.0));
}

// ---------------------------------------------------------------------------------------
// Colours.

Rgb Lerp(Rgb a, Rgb b, double t) {
  auto mix = [t](std::uint8_t u, std::uint8_t v) { return static_cast<std::uint8_t>(std::lround(u + (v - u) * t)); };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

// The depth colour map, t = 0 (near) .. 1 (far): pale yellow, orange, red, magenta,
// purple, indigo. Lightness falls steadily from near to far, so nearer always reads
// brighter and warmer; the far end stays clearly lighter than the black used for "no
// surface".
Rgb DepthColour(double t) {
  static constexpr std::array<Rgb, 6> kStops = {{
      {255, 238, 160}, {253, 178, 64}, {234, 104, 56}, {184, 52, 92}, {112, 42, 128}, {52, 50, 118}}};
  t = std::clamp(t, 0.0, 1.0) * (kStops.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(t), kStops.size() - 2);
  return Lerp(kStops[i], kStops[i + 1], t - static_cast<double>(i));
}

Rgb FromHsv(double h, double s, double v) {
  h = (h - std::floor(h)) * 6.0;
  const int i = static_cast<int>(h) % 6;
  const double f = h - std::floor(h);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (i) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  auto byte = [](double u) { return static_cast<std::uint8_t>(std::lround(std::clamp(u, 0.0, 1.0) * 255.0)); };
  return {byte(r), byte(g), byte(b)};
}

// Hue, saturation and value of a colour, each in [0, 1].
std::array<double, 3> ToHsv(double r, double g, double b) {
  const double v = std::max({r, g, b}), m = std::min({r, g, b}), chroma = v - m;
  double h = 0.0;
  if (chroma > 0.0) {
    if (v == r) h = (g - b) / chroma;
    else if (v == g) h = 2.0 + (b - r) / chroma;
    else h = 4.0 + (r - g) / chroma;
    h /= 6.0;
    h -= std::floor(h);
  }
  return {h, v > 0.0 ? chroma / v : 0.0, v};
}

// Distance between two hues on the colour circle, 0..0.5.
double HueDistance(double a, double b) {
  const double d = std::abs(a - b);
  return std::min(d, 1.0 - d);
}

// Instance ids that are no listed object (the robot's links): a pale tint per id, so the
// objects stand out and the links' boundaries still show.
Rgb OtherColour(std::uint32_t id) { return FromHsv(0.6 + 0.381966 * id, 0.3, 0.9); }
// Instance ids when no object table could be made: a colour per id.
Rgb IdColour(std::uint32_t id) { return FromHsv(0.6 + 0.381966 * id, 0.7, 0.95); }

// ---------------------------------------------------------------------------------------
// Reading the dataset.

Location At(const fs::path& file, std::string field = {}) { return Location{file.string(), 0, 0, std::move(field)}; }

// The sampled episode: where it lives.
struct EpisodeRef {
  std::uint64_t episode = 0;
  std::size_t shard = 0;  // index into the manifest's shards
};

// "demo_<N>" → N, or -1.
std::int64_t DemoNumber(std::string_view name) {
  if (!name.starts_with("demo_") || name.size() == 5) return -1;
  std::int64_t n = 0;
  for (const char c : name.substr(5)) {
    if (c < '0' || c > '9' || n > (std::int64_t{1} << 50)) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Numeric datasets read back with their expected shape checked.
template <H5Element T>
core::Result<H5Array<T>> ReadShaped(const H5Reader& h5, const std::string& path, std::size_t rank,
                                    std::uint64_t first_row = 0, std::uint64_t num_rows = H5Reader::kAllRows) {
  PF_ASSIGN_OR_RETURN(auto array, h5.ReadDatasetRows<T>(path, first_row, num_rows));
  if (array.shape.size() != rank)
    return Fail(StrCat("has ", array.shape.size(), " dimensions, expected ", rank), At(h5.path(), path));
  return array;
}

core::Status ExpectDims(const H5Reader& h5, const std::string& path, const H5Shape& shape, const H5Shape& want) {
  if (shape != want) {
    auto text = [](const H5Shape& s) {
      std::string out = "[";
      for (std::size_t i = 0; i < s.size(); ++i) out += StrCat(i ? " x " : "", s[i]);
      return out + "]";
    };
    return Fail(StrCat("shape ", text(shape), ", expected ", text(want)), At(h5.path(), path));
  }
  return core::Ok();
}

// ---------------------------------------------------------------------------------------
// Instance ids → objects.

struct ObjectTable {
  std::vector<std::string> labels;              // [num_objects] text written beside boxes
  std::vector<std::string> names;               // [num_objects]
  std::vector<Rgb> colours;                     // [num_objects] overlay and box colour
  std::vector<std::uint32_t> first_id;          // [num_objects] 0 = unknown
  std::map<std::uint32_t, std::size_t> object_of;  // instance id → object index
  bool from_table = false;
  bool known() const { return !object_of.empty(); }
};

// The table in env_args["objects"], if the dataset has one.
ObjectTable TableFromEnvArgs(const json& env_args, const std::vector<std::string>& names) {
  ObjectTable table;
  table.names = names;
  table.labels = names;
  table.first_id.assign(names.size(), 0);
  const auto it = env_args.find("objects");
  if (it == env_args.end() || !it->is_array() || it->size() != names.size()) return table;
  for (std::size_t o = 0; o < names.size(); ++o) {
    const json& entry = (*it)[o];
    if (!entry.is_object()) continue;
    if (const auto cls = entry.find("semantic_name"); cls != entry.end() && cls->is_string() && !cls->get<std::string>().empty())
      table.labels[o] = cls->get<std::string>();
    const auto ids = entry.find("instance_ids");
    if (ids == entry.end() || !ids->is_array()) continue;
    for (const json& id : *ids) {
      if (!id.is_number_unsigned() || id.get<std::uint64_t>() == 0 || id.get<std::uint64_t>() > 0xffffffffu) continue;
      const auto v = id.get<std::uint32_t>();
      if (table.first_id[o] == 0) table.first_id[o] = v;
      table.object_of.emplace(v, o);
    }
  }
  table.from_table = table.known();
  return table;
}

// p_W seen from camera X_WC (x y z qw qx qy qz): p_C = R_WCᵀ (p_W − p_WC).
std::array<double, 3> ToCamera(const double* X_WC, const double* p_W) {
  const double w = X_WC[3], x = X_WC[4], y = X_WC[5], z = X_WC[6];
  const double R[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                          {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                          {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
  const double d[3] = {p_W[0] - X_WC[0], p_W[1] - X_WC[1], p_W[2] - X_WC[2]};
  return {R[0][0] * d[0] + R[1][0] * d[1] + R[2][0] * d[2], R[0][1] * d[0] + R[1][1] * d[1] + R[2][1] * d[2],
          R[0][2] * d[0] + R[1][2] * d[1] + R[2][2] * d[2]};
}

// ---------------------------------------------------------------------------------------
// Contact sheets.

// One camera's frames of an episode, as read for a sheet.
struct SheetFrames {
  std::uint32_t width = 0, height = 0;
  std::vector<int> frames;                        // [K]
  std::vector<std::vector<std::uint8_t>> rgb;     // [K][H × W × 3]
  std::vector<std::vector<float>> depth;          // [K][H × W]
  std::vector<std::vector<std::uint32_t>> instance;  // [K][H × W]
  std::vector<double> intrinsics;                 // [T × 4]
  std::vector<double> pose;                       // [T × 7]
};

core::Result<SheetFrames> ReadSheetFrames(const H5Reader& h5, const std::string& demo, const InspectCamera& camera,
                                          const std::vector<std::uint64_t>& frames, std::uint64_t T) {
  SheetFrames s;
  s.width = camera.width;
  s.height = camera.height;
  const std::string obs = demo + "/obs/" + camera.name;
  const std::uint64_t H = camera.height, W = camera.width;
  for (const std::uint64_t t : frames) {
    s.frames.push_back(static_cast<int>(t));
    PF_ASSIGN_OR_RETURN(auto rgb, ReadShaped<std::uint8_t>(h5, obs + "_image", 4, t, 1));
    PF_TRY(ExpectDims(h5, obs + "_image", rgb.shape, {1, H, W, 3}));
    PF_ASSIGN_OR_RETURN(auto depth, ReadShaped<float>(h5, obs + "_depth", 3, t, 1));
    PF_TRY(ExpectDims(h5, obs + "_depth", depth.shape, {1, H, W}));
    PF_ASSIGN_OR_RETURN(auto instance, ReadShaped<std::uint32_t>(h5, obs + "_instance", 3, t, 1));
    PF_TRY(ExpectDims(h5, obs + "_instance", instance.shape, {1, H, W}));
    s.rgb.push_back(std::move(rgb.values));
    s.depth.push_back(std::move(depth.values));
    s.instance.push_back(std::move(instance.values));
  }
  PF_ASSIGN_OR_RETURN(auto intrinsics, ReadShaped<double>(h5, obs + "_intrinsics", 2));
  PF_TRY(ExpectDims(h5, obs + "_intrinsics", intrinsics.shape, {T, 4}));
  PF_ASSIGN_OR_RETURN(auto pose, ReadShaped<double>(h5, obs + "_pose", 2));
  PF_TRY(ExpectDims(h5, obs + "_pose", pose.shape, {T, 7}));
  s.intrinsics = std::move(intrinsics.values);
  s.pose = std::move(pose.values);
  return s;
}

// Adds one vote per (object, sampled frame) whose projected origin lands on an instance
// id whose depth agrees with the origin's within 0.1 m: votes[offset] with offset = id −
// object index.
void VoteInstanceIds(const SheetFrames& s, const std::vector<double>& object_poses, std::size_t num_objects,
                     std::map<std::int64_t, int>& votes) {
  constexpr double kDepthTolerance = 0.1;  // metres
  for (std::size_t k = 0; k < s.frames.size(); ++k) {
    const auto t = static_cast<std::size_t>(s.frames[k]);
    const double* K = &s.intrinsics[4 * t];
    const double* X_WC = &s.pose[7 * t];
    for (std::size_t o = 0; o < num_objects; ++o) {
      const auto p_C = ToCamera(X_WC, &object_poses[(t * num_objects + o) * 7]);
      if (!(p_C[2] > 0.0)) continue;
      const double u = K[0] * p_C[0] / p_C[2] + K[2], v = K[1] * p_C[1] / p_C[2] + K[3];
      if (!(u >= 0.0 && v >= 0.0 && u < s.width && v < s.height)) continue;
      const std::size_t i = static_cast<std::size_t>(v) * s.width + static_cast<std::size_t>(u);
      const std::uint32_t id = s.instance[k][i];
      if (id == 0 || !(std::abs(s.depth[k][i] - p_C[2]) <= kDepthTolerance)) continue;
      ++votes[static_cast<std::int64_t>(id) - static_cast<std::int64_t>(o)];
    }
  }
}

// The table made from the votes: the offset most votes agree on (ties: the smaller).
void TableFromVotes(const std::map<std::int64_t, int>& votes, ObjectTable& table) {
  std::int64_t best = 0;
  int best_votes = 0;
  for (const auto& [offset, n] : votes)
    if (n > best_votes) best = offset, best_votes = n;
  if (best_votes == 0) return;
  for (std::size_t o = 0; o < table.names.size(); ++o) {
    const std::int64_t id = best + static_cast<std::int64_t>(o);
    if (id <= 0 || id > 0xffffffff) continue;
    table.first_id[o] = static_cast<std::uint32_t>(id);
    table.object_of.emplace(static_cast<std::uint32_t>(id), o);
  }
}

// Each object's colour: its own hue where it has a clear one (the mean colour of its
// pixels in the frames read is saturated), so that a red cube is boxed in red; otherwise,
// or when a nearby hue is taken already, the free hue farthest from those taken.
void AssignColours(const std::vector<SheetFrames>& sheets, ObjectTable& table) {
  const std::size_t n = table.names.size();
  std::vector<std::array<double, 4>> sums(n, {0.0, 0.0, 0.0, 0.0});  // r, g, b, pixels
  if (table.known()) {
    for (const SheetFrames& s : sheets) {
      for (std::size_t k = 0; k < s.frames.size(); ++k) {
        const auto& ids = s.instance[k];
        const auto& rgb = s.rgb[k];
        for (std::size_t i = 0; i < ids.size(); ++i) {
          if (ids[i] == 0) continue;
          const auto it = table.object_of.find(ids[i]);
          if (it == table.object_of.end()) continue;
          auto& sum = sums[it->second];
          sum[0] += rgb[3 * i], sum[1] += rgb[3 * i + 1], sum[2] += rgb[3 * i + 2], sum[3] += 1.0;
        }
      }
    }
  }
  constexpr double kMinHueDistance = 0.06;
  std::vector<double> hues(n, -1.0), taken;
  auto free = [&](double h) {
    return std::all_of(taken.begin(), taken.end(), [h](double t) { return HueDistance(h, t) >= kMinHueDistance; });
  };
  // The most saturated objects choose first.
  std::vector<std::pair<double, std::size_t>> order;  // (−saturation, object)
  std::vector<double> own(n, 0.0);
  for (std::size_t o = 0; o < n; ++o) {
    if (sums[o][3] == 0.0) continue;
    const auto hsv = ToHsv(sums[o][0] / sums[o][3] / 255.0, sums[o][1] / sums[o][3] / 255.0, sums[o][2] / sums[o][3] / 255.0);
    own[o] = hsv[0];
    if (hsv[1] >= 0.35 && hsv[2] >= 0.15) order.emplace_back(-hsv[1], o);
  }
  std::stable_sort(order.begin(), order.end());
  for (const auto& [unused, o] : order)
    if (free(own[o])) taken.push_back(hues[o] = own[o]);
  for (std::size_t o = 0; o < n; ++o) {
    if (hues[o] >= 0.0) continue;
    double best = 0.0, best_distance = -1.0;
    for (int i = 0; i < 48; ++i) {
      const double h = (i + 0.5) / 48.0;
      double d = 1.0;
      for (const double t : taken) d = std::min(d, HueDistance(h, t));
      if (d > best_distance + 1e-12) best = h, best_distance = d;
    }
    taken.push_back(hues[o] = best);
  }
  table.colours.resize(n);
  for (std::size_t o = 0; o < n; ++o) table.colours[o] = FromHsv(hues[o], 0.8, 1.0);
}

struct Box {
  int x0 = 0, y0 = 0, x1 = -1, y1 = -1;  // inclusive pixel bounds; empty when x1 < x0
  bool empty() const { return x1 < x0; }
};

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  bool Overlaps(const Rect& o) const { return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h; }
};

std::string FormatDouble(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  std::string out = text;
  if (out.starts_with("-") && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);  // "-0.00"
  return out;
}

struct SheetContext {
  const InspectedEpisode* episode = nullptr;
  const InspectCamera* camera = nullptr;
  std::vector<double> time;  // [T] obs/time
  const ObjectTable* objects = nullptr;
};

constexpr int kPad = 12;
constexpr int kGap = 8;
constexpr int kTitleScale = 2;

core::Result<ContactSheet> DrawContactSheet(const SheetFrames& s, const SheetContext& ctx, const fs::path& png) {
  const int W = static_cast<int>(s.width), H = static_cast<int>(s.height);
  const int K = static_cast<int>(s.frames.size());
  const int scale = std::max(1, 256 / std::max(W, H));
  const int TW = W * scale, TH = H * scale;
  const int label_w = 116;
  const InspectedEpisode& ep = *ctx.episode;
  const std::string title = StrCat("episode ", ep.episode, "   camera ", ctx.camera->name, " (", W, "x", H, ")   ",
                                   ep.frames, " frames, ", FormatDouble(ep.duration_s, 1), " s   ");
  const std::string verdict = ep.success ? "success" : "failed";
  const int title_w = TextWidth(title, kTitleScale) + kAdvance * kTitleScale + TextWidth(verdict, kTitleScale);
  const int sheet_w = std::max({2 * kPad + label_w + K * TW + (K - 1) * kGap, 2 * kPad + title_w, 480});
  const int text_w = sheet_w - 2 * kPad;
  const ObjectTable& objects = *ctx.objects;

  // Depth range over the frames shown.
  float near = 0.0f, far = 0.0f;
  bool any_depth = false;
  for (const auto& depth : s.depth)
    for (const float d : depth)
      if (d > 0.0f && std::isfinite(d)) {
        near = any_depth ? std::min(near, d) : d;
        far = any_depth ? std::max(far, d) : d;
        any_depth = true;
      }

  // Boxes per frame and object; which objects appear at all.
  const std::size_t num_objects = objects.names.size();
  std::vector<std::vector<Box>> boxes(static_cast<std::size_t>(K));  // [K][num_objects]
  std::vector<bool> seen(num_objects, false);
  std::vector<std::map<std::uint32_t, Box>> id_boxes(static_cast<std::size_t>(K));  // when no table: per id
  for (int k = 0; k < K; ++k) {
    auto& frame_boxes = boxes[static_cast<std::size_t>(k)];
    frame_boxes.assign(num_objects, Box{});
    const auto& ids = s.instance[static_cast<std::size_t>(k)];
    for (int y = 0; y < H; ++y) {
      for (int x = 0; x < W; ++x) {
        const std::uint32_t id = ids[static_cast<std::size_t>(y) * s.width + static_cast<std::size_t>(x)];
        if (id == 0) continue;
        Box* box = nullptr;
        if (objects.known()) {
          const auto it = objects.object_of.find(id);
          if (it == objects.object_of.end()) continue;
          box = &frame_boxes[it->second];
        } else {
          box = &id_boxes[static_cast<std::size_t>(k)][id];
        }
        if (box->empty()) *box = Box{x, y, x, y};
        box->x0 = std::min(box->x0, x), box->x1 = std::max(box->x1, x);
        box->y0 = std::min(box->y0, y), box->y1 = std::max(box->y1, y);
      }
    }
    for (std::size_t o = 0; o < num_objects; ++o)
      if (!frame_boxes[o].empty()) seen[o] = true;
  }

  // Text blocks: header, legend.
  const auto instruction = WrapText("\"" + ep.instruction + "\"", text_w, kTitleScale);
  std::vector<std::pair<std::string, Rgb>> legend;
  if (objects.known()) {
    for (std::size_t o = 0; o < num_objects; ++o) {
      if (!seen[o]) continue;
      std::string text = objects.names[o];
      if (objects.labels[o] != objects.names[o]) text += " (" + objects.labels[o] + ")";
      legend.emplace_back(StrCat(text, " #", objects.first_id[o]), objects.colours[o]);
    }
    legend.emplace_back("other ids (the robot's links): pale tints", OtherColour(1));
  }
  // Legend lines: swatch + text entries packed greedily.
  std::vector<std::vector<std::size_t>> legend_lines;
  {
    int x = 0;
    for (std::size_t i = 0; i < legend.size(); ++i) {
      const int w = 14 + TextWidth(legend[i].first, 1) + 18;
      if (legend_lines.empty() || x + w > text_w) legend_lines.emplace_back(), x = 0;
      legend_lines.back().push_back(i);
      x += w;
    }
  }
  const std::string id_note =
      objects.from_table ? "instance ids: the dataset's object table"
      : objects.known()  ? "instance ids: found by projecting object origins (no table in the dataset)"
                         : "instance ids: no object could be matched; boxes show raw ids";

  const int title_h = kLineHeight * kTitleScale;
  int y = kPad;
  const int title_y = y;
  y += title_h;
  const int instruction_y = y;
  y += static_cast<int>(instruction.size()) * kLineHeight * kTitleScale + 6;
  const int column_head_y = y;
  y += kLineHeight * kTitleScale + 2;
  const int rgb_y = y;
  const int depth_y = rgb_y + TH + kGap;
  const int seg_y = depth_y + TH + kGap;
  y = seg_y + TH + kGap + 4;
  const int legend_y = y;
  y += static_cast<int>(legend_lines.size()) * (kLineHeight + 4) + kLineHeight + kPad;
  const int sheet_h = y;

  Canvas c(sheet_w, sheet_h, kBackground);
  DrawText(c, kPad, title_y, title, kText, kTitleScale);
  DrawText(c, kPad + TextWidth(title, kTitleScale) + kAdvance * kTitleScale, title_y, verdict, ep.success ? kGood : kBad,
           kTitleScale);
  for (std::size_t i = 0; i < instruction.size(); ++i)
    DrawText(c, kPad, instruction_y + static_cast<int>(i) * kLineHeight * kTitleScale, instruction[i], kText, kTitleScale);

  // Row labels and the depth colour bar.
  const int lx = kPad;
  DrawText(c, lx, rgb_y, "RGB", kText, kTitleScale);
  DrawText(c, lx, depth_y, "depth", kText, kTitleScale);
  DrawText(c, lx, seg_y, "instance", kText, kTitleScale);
  DrawText(c, lx, seg_y + kLineHeight * kTitleScale, "ids and", kText, kTitleScale);
  DrawText(c, lx, seg_y + 2 * kLineHeight * kTitleScale, "2-D boxes", kText, kTitleScale);
  {
    const int bar_x = lx, bar_y = depth_y + kLineHeight * kTitleScale + 4;
    const int bar_h = std::max(TH - kLineHeight * kTitleScale - 4 - 3 * kLineHeight, 20), bar_w = 12;
    if (any_depth) {
      for (int i = 0; i < bar_h; ++i) c.FillRect(bar_x, bar_y + i, bar_w, 1, DepthColour(i / std::max(1.0, bar_h - 1.0)));
      const int tx = bar_x + bar_w + 6;
      DrawText(c, tx, bar_y, FormatDouble(near, 2) + " m", kText);
      DrawText(c, tx, bar_y + kLineHeight, "near", kDimText);
      DrawText(c, tx, bar_y + bar_h - kLineHeight * 2 + 2, FormatDouble(far, 2) + " m", kText);
      DrawText(c, tx, bar_y + bar_h - kLineHeight + 2, "far", kDimText);
    } else {
      DrawText(c, bar_x, bar_y, "no surface", kDimText);
    }
    c.FillRect(bar_x, bar_y + bar_h + 4, bar_w, 8, Rgb{0, 0, 0});
    c.Outline(bar_x, bar_y + bar_h + 4, bar_w, 8, kAxis, 1);
    DrawText(c, bar_x + bar_w + 6, bar_y + bar_h + 4, "none", kDimText);
  }

  ContactSheet sheet;
  sheet.camera = ctx.camera->name;
  sheet.png = png;
  sheet.width = static_cast<std::uint32_t>(sheet_w);
  sheet.height = static_cast<std::uint32_t>(sheet_h);
  sheet.frames = s.frames;
  sheet.scale = scale;
  sheet.rgb_y = rgb_y;
  sheet.depth_y = depth_y;
  sheet.segmentation_y = seg_y;
  sheet.depth_near = any_depth ? near : 0.0f;
  sheet.depth_far = any_depth ? far : 0.0f;
  for (std::size_t o = 0; o < num_objects; ++o)
    if (seen[o]) sheet.objects_seen.push_back(objects.names[o]);

  const double depth_span = far > near ? static_cast<double>(far - near) : 1.0;
  for (int k = 0; k < K; ++k) {
    const auto ku = static_cast<std::size_t>(k);
    const int x0 = kPad + label_w + k * (TW + kGap);
    sheet.column_x.push_back(x0);
    const int t = s.frames[ku];
    const double time = static_cast<std::size_t>(t) < ctx.time.size() ? ctx.time[static_cast<std::size_t>(t)] : 0.0;
    const std::string head = StrCat("frame ", t, "  ", FormatDouble(time, 1), " s");
    DrawText(c, x0, column_head_y, head, kText, TextWidth(head, kTitleScale) <= TW ? kTitleScale : 1);
    const auto& rgb = s.rgb[ku];
    const auto& depth = s.depth[ku];
    const auto& ids = s.instance[ku];
    for (int v = 0; v < H; ++v) {
      for (int u = 0; u < W; ++u) {
        const std::size_t i = static_cast<std::size_t>(v) * s.width + static_cast<std::size_t>(u);
        const Rgb pixel{rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]};
        const float d = depth[i];
        const Rgb dc = (d > 0.0f && std::isfinite(d)) ? DepthColour((d - near) / depth_span) : Rgb{0, 0, 0};
        Rgb seg;
        const std::uint32_t id = ids[i];
        if (id == 0) {
          const auto grey = static_cast<std::uint8_t>((pixel.r * 30 + pixel.g * 59 + pixel.b * 11) / 100 * 45 / 100);
          seg = {grey, grey, grey};
        } else {
          Rgb tint = IdColour(id);
          if (objects.known()) {
            const auto it = objects.object_of.find(id);
            tint = it != objects.object_of.end() ? objects.colours[it->second] : OtherColour(id);
          }
          seg = Lerp(pixel, tint, 0.6);
        }
        c.FillRect(x0 + u * scale, rgb_y + v * scale, scale, scale, pixel);
        c.FillRect(x0 + u * scale, depth_y + v * scale, scale, scale, dc);
        c.FillRect(x0 + u * scale, seg_y + v * scale, scale, scale, seg);
      }
    }
    // Boxes, then labels placed where they overlap no other label.
    struct Labelled {
      Box box;
      std::string text;
      Rgb colour;
    };
    std::vector<Labelled> labelled;
    if (objects.known()) {
      for (std::size_t o = 0; o < num_objects; ++o)
        if (!boxes[ku][o].empty()) labelled.push_back({boxes[ku][o], objects.labels[o], objects.colours[o]});
    } else {
      for (const auto& [id, box] : id_boxes[ku]) labelled.push_back({box, StrCat("id ", id), IdColour(id)});
    }
    // Smaller boxes last, so their outlines stay on top of the big ones (table, pedestal).
    std::stable_sort(labelled.begin(), labelled.end(), [](const Labelled& a, const Labelled& b) {
      return (a.box.x1 - a.box.x0 + 1) * (a.box.y1 - a.box.y0 + 1) > (b.box.x1 - b.box.x0 + 1) * (b.box.y1 - b.box.y0 + 1);
    });
    const Rect tile{x0, seg_y, TW, TH};
    for (const Labelled& l : labelled) {
      const Rect r{x0 + l.box.x0 * scale, seg_y + l.box.y0 * scale, (l.box.x1 - l.box.x0 + 1) * scale,
                   (l.box.y1 - l.box.y0 + 1) * scale};
      c.Outline(r.x, r.y, r.w, r.h, l.colour, std::min(2, std::max(1, scale)));
    }
    std::vector<Rect> placed;
    for (auto it = labelled.rbegin(); it != labelled.rend(); ++it) {  // small objects pick first
      const Labelled& l = *it;
      const Rect r{x0 + l.box.x0 * scale, seg_y + l.box.y0 * scale, (l.box.x1 - l.box.x0 + 1) * scale,
                   (l.box.y1 - l.box.y0 + 1) * scale};
      const int lw = TextWidth(l.text, 1) + 4, lh = kGlyphRows + 3;
      // Above or below the box, then beside it, then stacked further out.
      std::vector<Point> candidates;
      for (int ring = 0; ring < 4; ++ring) {
        const int up = r.y - lh * (ring + 1), down = r.y + r.h + lh * ring;
        for (const int x : {r.x, r.x + r.w - lw}) candidates.push_back({double(x), double(up)}), candidates.push_back({double(x), double(down)});
        if (ring == 0)
          for (const int x : {r.x + r.w + 2, r.x - lw - 2}) candidates.push_back({double(x), double(r.y + r.h / 2 - lh / 2)});
      }
      Rect best{};
      bool found = false;
      for (const Point& p : candidates) {
        Rect cand{std::clamp(static_cast<int>(p.x), tile.x, tile.x + tile.w - lw),
                  std::clamp(static_cast<int>(p.y), tile.y, tile.y + tile.h - lh), lw, lh};
        if (!found) best = cand, found = true;
        if (std::none_of(placed.begin(), placed.end(), [&](const Rect& q) { return q.Overlaps(cand); })) {
          best = cand;
          break;
        }
      }
      placed.push_back(best);
      // A leader line when the label is not next to its box.
      const double bx = std::clamp(best.x + best.w / 2.0, double(r.x), double(r.x + r.w));
      const double by = std::clamp(best.y + best.h / 2.0, double(r.y), double(r.y + r.h));
      const double ex = std::clamp(bx, double(best.x), double(best.x + best.w));
      const double ey = std::clamp(by, double(best.y), double(best.y + best.h));
      if (std::hypot(bx - ex, by - ey) > 2.0) DrawPolyline(c, {{ex, ey}, {bx, by}}, l.colour, 1.2);
      c.FillRect(best.x, best.y, best.w, best.h, l.colour);
      DrawText(c, best.x + 2, best.y + 2, l.text, Rgb{16, 16, 16});
    }
  }

  // Legend.
  for (std::size_t line = 0; line < legend_lines.size(); ++line) {
    int x = kPad;
    const int ly = legend_y + static_cast<int>(line) * (kLineHeight + 4);
    for (const std::size_t i : legend_lines[line]) {
      c.FillRect(x, ly, 10, kGlyphRows, legend[i].second);
      DrawText(c, x + 14, ly + 1, legend[i].first, kText);
      x += 14 + TextWidth(legend[i].first, 1) + 18;
    }
  }
  DrawText(c, kPad, legend_y + static_cast<int>(legend_lines.size()) * (kLineHeight + 4), id_note, kDimText);

  PF_TRY(WritePng(png, static_cast<std::uint32_t>(c.width()), static_cast<std::uint32_t>(c.height()), 3, 8, c.data()));
  return sheet;
}

// ---------------------------------------------------------------------------------------
// Trajectory plots.

struct Series {
  std::vector<double> t, v;
  Rgb colour;
  bool line = true;
  bool dots = false;
  double width = 1.6;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
  std::vector<std::pair<double, double>> shaded;  // time intervals drawn tinted
};

// Tick values at a "nice" step (1, 2 or 5 × 10^n) covering [lo, hi] with about `target`
// intervals; *step is set to that step.
std::vector<double> NiceTicks(double lo, double hi, int target, double* step) {
  const double raw = (hi - lo) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  *step = (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * magnitude;
  std::vector<double> ticks;
  const double first = std::ceil(lo / *step - 1e-9);
  for (int i = 0; i < 100; ++i) {
    const double v = (first + i) * *step;
    if (v > hi + *step * 1e-9) break;
    ticks.push_back(v);
  }
  return ticks;
}

int TickDecimals(double step) { return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))); }

void DrawPanel(Canvas& c, const Rect& area, const Panel& panel, double t0, double t1, bool time_labels) {
  constexpr int kScale = 2;
  c.FillRect(area.x, area.y, area.w, area.h, kPanel);
  // Value range: every series, padded.
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : panel.series)
    for (const double v : s.v)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0.0, hi = 1.0;
  if (hi - lo < 1e-6) {
    const double half = std::max(0.05, std::abs(lo) * 0.1);
    lo -= half, hi += half;
  } else {
    const double pad = (hi - lo) * 0.08;
    lo -= pad, hi += pad;
  }
  auto X = [&](double t) { return area.x + (t - t0) / (t1 - t0) * area.w; };
  auto Y = [&](double v) { return area.y + area.h - (v - lo) / (hi - lo) * area.h; };
  for (const auto& [a, b] : panel.shaded) {
    const int xa = static_cast<int>(std::lround(X(a))), xb = static_cast<int>(std::lround(X(b)));
    c.BlendRect(xa, area.y, std::max(1, xb - xa), area.h, Rgb{255, 255, 255}, 0.07);
  }
  // Grid and tick labels.
  double vstep = 1.0, tstep = 1.0;
  for (const double v : NiceTicks(lo, hi, 4, &vstep)) {
    const int y = static_cast<int>(std::lround(Y(v)));
    c.FillRect(area.x, y, area.w, 1, kGrid);
    c.FillRect(area.x - 5, y, 5, 1, kAxis);
    const std::string text = FormatDouble(v, TickDecimals(vstep));
    DrawText(c, area.x - 9 - TextWidth(text, kScale), y - 7 * kScale / 2, text, kText, kScale);
  }
  for (const double t : NiceTicks(t0, t1, 10, &tstep)) {
    const int x = static_cast<int>(std::lround(X(t)));
    c.FillRect(x, area.y, 1, area.h, kGrid);
    c.FillRect(x, area.y + area.h, 1, 5, kAxis);
    if (time_labels) {
      const std::string text = FormatDouble(t, TickDecimals(tstep));
      DrawText(c, x - TextWidth(text, kScale) / 2, area.y + area.h + 9, text, kText, kScale);
    }
  }
  c.Outline(area.x, area.y, area.w, area.h, kAxis, 1);
  // Series.
  for (const Series& s : panel.series) {
    std::vector<Point> points;
    for (std::size_t i = 0; i < s.t.size() && i < s.v.size(); ++i)
      if (std::isfinite(s.v[i])) points.push_back({X(s.t[i]), Y(s.v[i])});
    if (s.line) DrawPolyline(c, points, s.colour, s.width);
    if (s.dots)
      for (const Point& p : points) FillDisc(c, p.x, p.y, 2.6, s.colour);
  }
  DrawText(c, area.x, area.y - (kLineHeight - 1) * kScale, panel.title, kText, kScale);
}

// Column `col` of a row-major [rows × cols] array.
std::vector<double> Column(const std::vector<double>& values, std::size_t cols, std::size_t col) {
  std::vector<double> out;
  for (std::size_t i = col; i < values.size(); i += cols) out.push_back(values[i]);
  return out;
}

core::Status DrawTrajectory(const H5Reader& h5, const std::string& demo, const InspectedEpisode& ep, std::uint64_t T,
                            double brain_hz, double control_hz, const fs::path& png) {
  PF_ASSIGN_OR_RETURN(auto time, ReadShaped<double>(h5, demo + "/obs/time", 1));
  PF_TRY(ExpectDims(h5, demo + "/obs/time", time.shape, {T}));
  PF_ASSIGN_OR_RETURN(auto eef, ReadShaped<double>(h5, demo + "/obs/robot0_eef_pos", 2));
  PF_TRY(ExpectDims(h5, demo + "/obs/robot0_eef_pos", eef.shape, {T, 3}));
  PF_ASSIGN_OR_RETURN(auto gripper, ReadShaped<double>(h5, demo + "/obs/robot0_gripper_qpos", 2));
  if (gripper.shape[0] != T) return Fail(StrCat("has ", gripper.shape[0], " rows, expected ", T), At(h5.path(), demo + "/obs/robot0_gripper_qpos"));
  PF_ASSIGN_OR_RETURN(auto actions, ReadShaped<float>(h5, demo + "/actions", 2));
  PF_TRY(ExpectDims(h5, demo + "/actions", actions.shape, {T, 7}));
  PF_ASSIGN_OR_RETURN(auto rewards, ReadShaped<float>(h5, demo + "/rewards", 1));
  PF_TRY(ExpectDims(h5, demo + "/rewards", rewards.shape, {T}));
  H5Array<float> sparse;
  if (h5.Exists(demo + "/sparse_rewards")) {
    PF_ASSIGN_OR_RETURN(sparse, ReadShaped<float>(h5, demo + "/sparse_rewards", 1));
    PF_TRY(ExpectDims(h5, demo + "/sparse_rewards", sparse.shape, {T}));
  }
  // The control-rate stream is optional: without it the plot shows the brain rate only.
  H5Array<double> ctrl_time, ctrl_pose;
  const bool has_ctrl = h5.Exists(demo + "/cerebellum/time") && h5.Exists(demo + "/cerebellum/eef_pose");
  if (has_ctrl) {
    PF_ASSIGN_OR_RETURN(ctrl_time, ReadShaped<double>(h5, demo + "/cerebellum/time", 1));
    PF_ASSIGN_OR_RETURN(ctrl_pose, ReadShaped<double>(h5, demo + "/cerebellum/eef_pose", 2));
    PF_TRY(ExpectDims(h5, demo + "/cerebellum/eef_pose", ctrl_pose.shape, {ctrl_time.shape[0], 7}));
  }

  const Rgb kControl{86, 170, 245}, kBrain{255, 150, 50};
  const double dt = brain_hz > 0 ? 1.0 / brain_hz : 0.1;
  double t0 = 0.0, t1 = 0.0;
  for (const double t : time.values) t1 = std::max(t1, t);
  for (const double t : ctrl_time.values) t1 = std::max(t1, t);
  t0 = std::min(time.values.empty() ? 0.0 : time.values.front(), ctrl_time.values.empty() ? 0.0 : ctrl_time.values.front());
  if (!(t1 > t0)) t1 = t0 + dt;

  std::vector<std::pair<double, double>> closed;  // gripper commanded closed
  for (std::uint64_t t = 0; t < T; ++t) {
    if (actions.values[t * 7 + 6] <= 0.5f) continue;
    const double a = time.values[t], b = t + 1 < T ? time.values[t + 1] : a + dt;
    if (!closed.empty() && std::abs(closed.back().second - a) < 1e-9) closed.back().second = b;
    else closed.emplace_back(a, b);
  }

  constexpr int kScale = 2;
  const int width = 1200, left = 110, right = 24, panel_h = 150, panel_gap = 24 + kLineHeight * kScale;
  const int plot_w = width - left - right;
  // Brain-rate samples as dots while they stay apart (about 6 pixels), else lines only.
  const bool dots = T * 6 <= static_cast<std::uint64_t>(plot_w);
  std::vector<Panel> panels;
  const char* axes[3] = {"x", "y", "z"};
  for (std::size_t k = 0; k < 3; ++k) {
    Panel p;
    p.title = StrCat("end effector ", axes[k], " (m, world)");
    if (has_ctrl) p.series.push_back({ctrl_time.values, Column(ctrl_pose.values, 7, k), kControl, true, false, 1.8});
    p.series.push_back({time.values, Column(eef.values, 3, k), kBrain, !dots, dots, 1.0});
    p.shaded = closed;
    panels.push_back(std::move(p));
  }
  {
    Panel p;
    p.title = "gripper fingers (robot0_gripper_qpos)";
    const std::size_t G = gripper.shape.size() == 2 ? gripper.shape[1] : 1;
    for (std::size_t g = 0; g < G; ++g)
      p.series.push_back({time.values, Column(gripper.values, G, g), g == 0 ? Rgb{110, 215, 130} : Rgb{210, 130, 230},
                          true, g == 0 && dots, g == 0 ? 3.2 : 1.4});  // the first finger wider: equal fingers stay visible
    p.shaded = closed;
    panels.push_back(std::move(p));
  }
  {
    Panel p;
    p.title = "reward";
    std::vector<double> dense(rewards.values.begin(), rewards.values.end());
    std::vector<double> sparse_d(sparse.values.begin(), sparse.values.end());
    if (!sparse_d.empty()) p.series.push_back({time.values, sparse_d, Rgb{240, 95, 95}, true, false, 2.2});
    p.series.push_back({time.values, dense, Rgb{250, 210, 70}, true, dots, 1.4});
    p.shaded = closed;
    panels.push_back(std::move(p));
  }

  const auto instruction = WrapText("\"" + ep.instruction + "\"", width - 2 * kPad, kScale);
  int y = kPad;
  const int title_y = y;
  y += kLineHeight * kScale;
  const int instruction_y = y;
  y += static_cast<int>(instruction.size()) * kLineHeight * kScale + 4;
  const int legend_y = y;
  y += 2 * (kLineHeight + 6) + 8 + kLineHeight * kScale;
  const int panels_y = y;
  y += static_cast<int>(panels.size()) * (panel_h + panel_gap) - panel_gap;
  const int axis_label_y = y + 9 + kLineHeight * kScale;
  const int height = axis_label_y + kLineHeight * kScale + kPad;

  Canvas c(width, height, kBackground);
  const std::string title = StrCat("episode ", ep.episode, "   trajectory   ", ep.frames, " frames, ",
                                   FormatDouble(ep.duration_s, 1), " s   ");
  DrawText(c, kPad, title_y, title, kText, kScale);
  DrawText(c, kPad + TextWidth(title, kScale) + kAdvance * kScale, title_y, ep.success ? "success" : "failed",
           ep.success ? kGood : kBad, kScale);
  for (std::size_t i = 0; i < instruction.size(); ++i)
    DrawText(c, kPad, instruction_y + static_cast<int>(i) * kLineHeight * kScale, instruction[i], kText, kScale);

  // Legend: two lines at font scale 1.
  {
    int x = kPad;
    const int ly = legend_y;
    if (has_ctrl) {
      DrawPolyline(c, {{double(x), ly + 4.5}, {double(x + 24), ly + 4.5}}, kControl, 2.0);
      const std::string text = StrCat("control rate ", FormatDouble(control_hz, 0), " Hz (cerebellum/eef_pose)");
      DrawText(c, x + 30, ly, text, kText);
      x += 30 + TextWidth(text, 1) + 24;
    }
    FillDisc(c, x + 12, ly + 4.5, 3.0, kBrain);
    const std::string text = StrCat("brain rate ", FormatDouble(brain_hz, 0), " Hz (obs/robot0_eef_pos)");
    DrawText(c, x + 30, ly, text, kText);
    x += 30 + TextWidth(text, 1) + 24;
    c.BlendRect(x, ly - 1, 24, 11, Rgb{255, 255, 255}, 0.16);
    DrawText(c, x + 30, ly, "gripper commanded closed (actions[:, 6] > 0.5)", kText);
    x = kPad;
    const int ly2 = ly + kLineHeight + 6;
    DrawPolyline(c, {{double(x), ly2 + 4.5}, {double(x + 24), ly2 + 4.5}}, Rgb{250, 210, 70}, 1.6);
    DrawText(c, x + 30, ly2, "dense reward (rewards)", kText);
    x += 30 + TextWidth("dense reward (rewards)", 1) + 24;
    if (!sparse.values.empty()) {
      DrawPolyline(c, {{double(x), ly2 + 4.5}, {double(x + 24), ly2 + 4.5}}, Rgb{240, 95, 95}, 2.2);
      DrawText(c, x + 30, ly2, "sparse reward (sparse_rewards)", kText);
      x += 30 + TextWidth("sparse reward (sparse_rewards)", 1) + 24;
    }
    DrawPolyline(c, {{double(x), ly2 + 4.5}, {double(x + 24), ly2 + 4.5}}, Rgb{110, 215, 130}, 1.6);
    DrawPolyline(c, {{double(x + 30), ly2 + 4.5}, {double(x + 54), ly2 + 4.5}}, Rgb{210, 130, 230}, 1.6);
    DrawText(c, x + 60, ly2, "gripper finger joints (m)", kText);
  }
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const Rect area{left, panels_y + static_cast<int>(i) * (panel_h + panel_gap), plot_w, panel_h};
    DrawPanel(c, area, panels[i], t0, t1, i + 1 == panels.size());
  }
  const std::string axis = "time (s)";
  DrawText(c, left + plot_w / 2 - TextWidth(axis, kScale) / 2, axis_label_y, axis, kText, kScale);
  return WritePng(png, static_cast<std::uint32_t>(c.width()), static_cast<std::uint32_t>(c.height()), 3, 8, c.data());
}

// ---------------------------------------------------------------------------------------

std::string EpisodeFileStem(std::uint64_t episode) {
  char text[32];
  std::snprintf(text, sizeof text, "episode_%06llu", static_cast<unsigned long long>(episode));
  return text;
}

// Whether `inner` is `outer` or lies inside it (both made absolute and normal, following
// the symbolic links that exist).
bool IsInside(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(inner, ec), ec).lexically_normal();
  fs::path b = fs::weakly_canonical(fs::absolute(outer, ec), ec).lexically_normal();
  if (!a.has_filename()) a = a.parent_path();
  if (!b.has_filename()) b = b.parent_path();
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai)
    if (ai == a.end() || *ai != *bi) return false;
  return true;
}

}  // namespace

fs::path DefaultInspectOut(const fs::path& dataset) {
  fs::path dir = fs::absolute(dataset).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "ds/" → "ds"
  return dir.parent_path() / (dir.filename().string() + "-inspect");
}

std::vector<std::uint64_t> EvenlySpaced(std::uint64_t total, std::uint64_t count) {
  count = std::min(count, total);
  std::vector<std::uint64_t> out;
  if (count == 0) return out;
  if (count == 1) return {0};
  for (std::uint64_t i = 0; i < count; ++i)
    out.push_back(static_cast<std::uint64_t>(std::llround(static_cast<double>(i) * static_cast<double>(total - 1) /
                                                          static_cast<double>(count - 1))));
  return out;
}

core::Result<DatasetSummary> InspectDataset(const InspectConfig& config) {
  DatasetSummary summary;
  const fs::path dir = config.dataset;
  summary.dataset = dir;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Fail("no such dataset directory", At(dir));
  if (!fs::is_directory(dir, ec)) return Fail("not a directory", At(dir));
  const fs::path manifest_path = dir / "manifest.json";
  if (!fs::exists(manifest_path, ec))
    return Fail("no manifest.json: not a parafab dataset, or its run has not finished", At(manifest_path));
  PF_ASSIGN_OR_RETURN(DatasetManifest manifest, ReadManifest(manifest_path));
  summary.scenario_name = manifest.scenario_name;
  summary.scenario_hash = manifest.scenario_hash;
  summary.scenario_source = manifest.scenario_source;
  summary.task = manifest.task;
  summary.parafab_version = manifest.parafab_version;
  summary.seed = manifest.seed;
  summary.episodes_per_shard = manifest.episodes_per_shard;
  summary.episodes_attempted = manifest.episodes_attempted;
  summary.episodes_kept = manifest.episodes_kept;
  summary.successes = manifest.successes;
  summary.frames = manifest.frames;
  summary.shards = manifest.num_shards;
  summary.physics_hz = manifest.physics_hz;
  summary.control_hz = manifest.control_hz;
  summary.brain_hz = manifest.brain_hz;
  summary.formats = manifest.formats;
  for (const ManifestCamera& camera : manifest.cameras) summary.cameras.push_back({camera.name, camera.width, camera.height});

  // Shards and files.
  for (const char* name : {"manifest.json", "run.json"}) summary.files.push_back({name, 0, false});
  for (const ManifestShard& shard : manifest.shards)
    for (const std::string& file : shard.files) summary.files.push_back({file, 0, false});
  std::vector<ManifestShard> shard_list = std::move(manifest.shards);
  std::stable_sort(shard_list.begin(), shard_list.end(), [](const ManifestShard& a, const ManifestShard& b) { return a.shard < b.shard; });
  for (InspectFile& file : summary.files) {
    const fs::path path = dir / file.path;
    if (fs::is_regular_file(path, ec)) {
      file.present = true;
      file.bytes = fs::file_size(path, ec);
      if (ec) file.bytes = 0;
      summary.total_bytes += file.bytes;
    }
  }

  // The object names, from the first shard's env_args.
  json env_args;
  for (const ManifestShard& shard : shard_list) {
    if (shard.episodes_file.empty()) continue;
    PF_ASSIGN_OR_RETURN(auto h5, H5Reader::Open(dir / shard.episodes_file));
    PF_ASSIGN_OR_RETURN(const std::string text, h5.ReadStringAttribute("data", "env_args"));
    env_args = json::parse(text, nullptr, false);
    if (env_args.is_discarded() || !env_args.is_object())
      return Fail("not a JSON object", At(h5.path(), "data.attrs[env_args]"));
    if (const auto names = env_args.find("object_names"); names != env_args.end() && names->is_array())
      for (const json& n : *names)
        summary.object_names.push_back(n.is_string() ? n.get<std::string>() : std::string("?"));
    break;
  }

  // Sampled episodes: evenly spaced over the kept episodes, found shard by shard.
  std::uint64_t kept_total = 0;
  for (const ManifestShard& shard : shard_list) kept_total += shard.kept;
  const std::vector<std::uint64_t> picks = EvenlySpaced(kept_total, static_cast<std::uint64_t>(std::max(config.episodes, 0)));
  if (picks.empty()) return summary;

  summary.out = config.out.empty() ? DefaultInspectOut(dir) : config.out;
  if (IsInside(summary.out, dir))
    return Fail("the output directory lies inside the dataset, which inspect never modifies", At(summary.out));
  fs::create_directories(summary.out, ec);
  if (ec || !fs::is_directory(summary.out))
    return Fail(StrCat("cannot create the output directory: ", ec ? ec.message() : "not a directory"), At(summary.out));

  std::size_t shard_index = 0;
  std::uint64_t kept_before = 0;  // kept episodes in the shards before shard_index
  std::optional<H5Reader> h5;
  std::vector<std::int64_t> demos;  // the open shard's demo numbers, ascending
  for (const std::uint64_t pick : picks) {
    while (shard_index < shard_list.size() && pick >= kept_before + shard_list[shard_index].kept) {
      kept_before += shard_list[shard_index].kept;
      ++shard_index;
      h5.reset();
    }
    if (shard_index >= shard_list.size()) break;
    const ManifestShard& shard = shard_list[shard_index];
    if (shard.episodes_file.empty())
      return Fail("the shard lists no episodes.hdf5", At(manifest_path, StrCat("shards[", shard_index, "].files")));
    if (!h5) {
      PF_ASSIGN_OR_RETURN(auto reader, H5Reader::Open(dir / shard.episodes_file));
      h5.emplace(std::move(reader));
      PF_ASSIGN_OR_RETURN(const auto names, h5->List("data"));
      demos.clear();
      for (const std::string& name : names)
        if (const std::int64_t n = DemoNumber(name); n >= 0) demos.push_back(n);
      std::sort(demos.begin(), demos.end());
    }
    const std::uint64_t local = pick - kept_before;
    if (local >= demos.size())
      return Fail(StrCat("the manifest says this shard keeps ", shard.kept, " episodes, the file holds ", demos.size()),
                  At(h5->path(), "data"));
    const std::string demo = StrCat("data/demo_", demos[local]);

    InspectedEpisode ep;
    ep.episode = static_cast<std::uint64_t>(demos[local]);
    ep.shard = shard.shard;
    ep.file = shard.episodes_file;
    PF_ASSIGN_OR_RETURN(const std::int64_t success, h5->ReadIntAttribute(demo, "success"));
    PF_ASSIGN_OR_RETURN(const std::int64_t num_samples, h5->ReadIntAttribute(demo, "num_samples"));
    PF_ASSIGN_OR_RETURN(ep.instruction, h5->ReadStringAttribute(demo, "instruction"));
    if (num_samples < 1 || num_samples > (std::int64_t{1} << 31))
      return Fail(StrCat("num_samples ", num_samples, " is out of range"), At(h5->path(), demo + ".attrs[num_samples]"));
    ep.success = success != 0;
    ep.frames = static_cast<int>(num_samples);
    const auto T = static_cast<std::uint64_t>(num_samples);
    PF_ASSIGN_OR_RETURN(auto time, ReadShaped<double>(*h5, demo + "/obs/time", 1));
    PF_TRY(ExpectDims(*h5, demo + "/obs/time", time.shape, {T}));
    ep.duration_s = time.values.back();

    // Every camera's frames, then the instance → object table from all of them.
    const std::vector<std::uint64_t> frames = EvenlySpaced(T, static_cast<std::uint64_t>(std::max(config.frames, 1)));
    std::vector<SheetFrames> sheets;
    for (const InspectCamera& camera : summary.cameras) {
      PF_ASSIGN_OR_RETURN(auto s, ReadSheetFrames(*h5, demo, camera, frames, T));
      sheets.push_back(std::move(s));
    }
    ObjectTable objects = TableFromEnvArgs(env_args, summary.object_names);
    const std::size_t num_objects = summary.object_names.size();
    if (!objects.from_table && num_objects > 0) {
      PF_ASSIGN_OR_RETURN(auto poses, ReadShaped<double>(*h5, demo + "/obs/object_poses", 3));
      PF_TRY(ExpectDims(*h5, demo + "/obs/object_poses", poses.shape, {T, num_objects, 7}));
      std::map<std::int64_t, int> votes;
      for (const SheetFrames& s : sheets) VoteInstanceIds(s, poses.values, num_objects, votes);
      TableFromVotes(votes, objects);
    }
    AssignColours(sheets, objects);
    ep.object_instance_ids = objects.first_id;
    ep.instance_ids_from_table = objects.from_table;

    const fs::path out = summary.out;
    const std::string stem = EpisodeFileStem(ep.episode);
    for (std::size_t i = 0; i < sheets.size(); ++i) {
      SheetContext ctx{&ep, &summary.cameras[i], time.values, &objects};
      PF_ASSIGN_OR_RETURN(auto sheet, DrawContactSheet(sheets[i], ctx, out / (stem + "_" + summary.cameras[i].name + ".png")));
      summary.images.push_back(sheet.png);
      ep.sheets.push_back(std::move(sheet));
    }
    ep.trajectory_png = out / (stem + "_trajectory.png");
    PF_TRY(DrawTrajectory(*h5, demo, ep, T, summary.brain_hz, summary.control_hz, ep.trajectory_png));
    summary.images.push_back(ep.trajectory_png);
    summary.episodes.push_back(std::move(ep));
  }
  return summary;
}

}  // namespace pf::datagen
