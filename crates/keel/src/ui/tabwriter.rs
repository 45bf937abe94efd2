//! Aligned columns as docker's tables print them: Go's `text/tabwriter` (elastic tabstops), in
//! the configuration docker's `formatter.Context` uses, `NewWriter(out, 10, 1, 3, ' ', 0)`:
//! minimum cell width 10 including padding, 3 spaces of padding, left-aligned.
//!
//! Cells are terminated by `\t`; the text after a line's last tab is not part of any column.
//! A column block is a run of consecutive lines that all have a tab-terminated cell in that
//! column; its width is `max(min_width, widest cell + padding)`. Widths count terminal columns
//! (docker's fork of tabwriter uses go-runewidth, so `日本` is 4 wide). A `\f` ends every block,
//! as in Go, and is printed as a newline.
//!
//! Not the `tabwriter` crate: its minimum width is applied before the padding is added, so
//! docker's `TAG` column comes out 13 columns wide instead of 10.

use crate::ui::truncate::display_width;

/// docker's table settings (`cli/command/formatter/formatter.go`).
pub const DOCKER_MIN_WIDTH: usize = 10;
pub const DOCKER_PADDING: usize = 3;

/// Align `text` as docker prints a table: each line's `\t`-terminated cells padded to their
/// column width.
pub fn docker_table(text: &str) -> String {
    align(text, DOCKER_MIN_WIDTH, DOCKER_PADDING)
}

/// Align `text` as Go's `tabwriter.NewWriter(out, min_width, _, padding, ' ', 0)` followed by
/// a `Flush` would.
pub fn align(text: &str, min_width: usize, padding: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    // A formfeed flushes the writer: the sections on either side are formatted independently.
    let mut sections = text.split('\x0c').peekable();
    while let Some(section) = sections.next() {
        let more = sections.peek().is_some();
        let lines = split_cells(section, more);
        let mut table = Table {
            lines: &lines,
            min_width,
            padding,
            widths: Vec::new(),
            out: &mut out,
        };
        table.format(0, lines.len());
        if more {
            out.push('\n');
        }
    }
    out
}

struct Cell<'a> {
    text: &'a str,
    width: usize,
}

/// Lines of cells. A line ends at `\n` and a cell at `\t` (or `\v`, a soft tab, which without
/// Go's `DiscardEmptyColumns` flag behaves the same). The text after the last newline is a
/// final line with no cells when empty. A section ended by a formfeed has its last line
/// terminated by that formfeed.
fn split_cells(section: &str, terminated: bool) -> Vec<Vec<Cell<'_>>> {
    let mut lines: Vec<Vec<Cell<'_>>> = section
        .split('\n')
        .map(|line| {
            line.split(['\t', '\x0b'])
                .map(|text| Cell {
                    text,
                    width: display_width(text),
                })
                .collect()
        })
        .collect();
    if !terminated {
        if let Some(last) = lines.last_mut() {
            if last.len() == 1 && last[0].text.is_empty() {
                last.clear();
            }
        }
    }
    lines
}

struct Table<'a, 'o> {
    lines: &'a [Vec<Cell<'a>>],
    min_width: usize,
    padding: usize,
    /// Widths of the columns to the left of the one being formatted.
    widths: Vec<usize>,
    out: &'o mut String,
}

impl Table<'_, '_> {
    /// Whether `line` has a tab-terminated cell in `column` (its last cell never counts).
    fn has_column(&self, line: usize, column: usize) -> bool {
        self.lines[line].len() > column + 1
    }

    /// Format lines `start..end`, whose columns left of `self.widths.len()` are already sized:
    /// find each block of lines sharing the next column, size it, recurse for the columns to
    /// its right, and print the lines outside any block as they are.
    fn format(&mut self, start: usize, end: usize) {
        let column = self.widths.len();
        let mut pending = start;
        let mut line = start;
        while line < end {
            if !self.has_column(line, column) {
                line += 1;
                continue;
            }
            self.write_lines(pending, line);
            let block_start = line;
            let mut width = self.min_width;
            while line < end && self.has_column(line, column) {
                width = width.max(self.lines[line][column].width + self.padding);
                line += 1;
            }
            self.widths.push(width);
            self.format(block_start, line);
            self.widths.pop();
            pending = line;
        }
        self.write_lines(pending, end);
    }

    fn write_lines(&mut self, start: usize, end: usize) {
        for i in start..end {
            for (j, cell) in self.lines[i].iter().enumerate() {
                self.out.push_str(cell.text);
                if let Some(&width) = self.widths.get(j) {
                    let pad = width.saturating_sub(cell.width);
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected outputs were printed by docker 28.2.2 (`docker images`, `docker history`)
    // against a stub daemon serving these rows.
    #[test]
    fn docker_images_layout() {
        let input = "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n\
            busybox\tlatest\taaaaaaaaaaaa\t2 hours ago\t4.26MB\n\
            <none>\t<none>\tbbbbbbbbbbbb\t3 days ago\t1e+03kB\n\
            registry.example.com:5000/team/app\tv1.2.3\tcccccccccccc\t45 seconds ago\t1.23GB\n\
            zero\tcreated\tdddddddddddd\t56 years ago\t0B\n";
        let want = "\
REPOSITORY                           TAG       IMAGE ID       CREATED          SIZE
busybox                              latest    aaaaaaaaaaaa   2 hours ago      4.26MB
<none>                               <none>    bbbbbbbbbbbb   3 days ago       1e+03kB
registry.example.com:5000/team/app   v1.2.3    cccccccccccc   45 seconds ago   1.23GB
zero                                 created   dddddddddddd   56 years ago     0B
";
        assert_eq!(docker_table(input), want);
    }

    #[test]
    fn header_only() {
        assert_eq!(
            docker_table("REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"),
            "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
        );
    }

    #[test]
    fn docker_history_layout_with_wide_text_and_empty_last_cells() {
        let input = "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT\n\
            aaaaaaaaaaaa\t2 hours ago\t/bin/sh -c #(nop)  CMD [\"sh\"]\t0B\t\n\
            <missing>\t2 hours ago\t/bin/sh -c #(nop) ADD file:7e9002edaafd4e457…\t4.26MB\tbuildkit.dockerfile.v0\n\
            <missing>\t2 hours ago\tRUN 日本語日本語日本語日本語日本語日本語日本…\t1kB\t\n";
        let want = "\
IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT
aaaaaaaaaaaa   2 hours ago   /bin/sh -c #(nop)  CMD [\"sh\"]                   0B        
<missing>      2 hours ago   /bin/sh -c #(nop) ADD file:7e9002edaafd4e457…   4.26MB    buildkit.dockerfile.v0
<missing>      2 hours ago   RUN 日本語日本語日本語日本語日本語日本語日本…   1kB       
";
        assert_eq!(docker_table(input), want);
    }

    // The example of Go's text/tabwriter documentation: b and c are in distinct columns because
    // the b column is not contiguous; d and e are in no column.
    #[test]
    fn column_blocks() {
        let input = "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n";
        assert_eq!(
            align(input, 0, 1),
            "aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n"
        );
    }

    #[test]
    fn lines_without_tabs_break_blocks_and_text_after_last_newline_is_kept() {
        assert_eq!(align("a\tb\nno tabs\nccc\td", 0, 1), "a b\nno tabs\nccc d");
        assert_eq!(align("", 10, 3), "");
        assert_eq!(
            align("x\t\t\ty\nlonger cell here\tz\n", 10, 3),
            format!("x{}y\nlonger cell here   z\n", " ".repeat(18 + 10 + 10))
        );
    }

    #[test]
    fn formfeed_flushes() {
        assert_eq!(align("a\tb\n\x0clonger\tc\n", 0, 1), "a b\n\nlonger c\n");
        assert_eq!(align("a\tb\nlonger\tc\n", 0, 1), "a      b\nlonger c\n");
    }
}
