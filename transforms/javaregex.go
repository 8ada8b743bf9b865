package transforms

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// javaRegex is a java.util.regex.Pattern used the way Connect uses it:
// Matcher.matches() (the whole input must match) followed by
// Matcher.replaceFirst(replacement). The pattern is compiled by Go's RE2
// engine, which accepts Java's common syntax (classes, groups, named
// groups, quantifiers, flags) but not backreferences, lookaround or
// possessive quantifiers; such patterns fail at configure time.
type javaRegex struct {
	re    *regexp.Regexp // as written, for the replacement's find
	whole *regexp.Regexp // anchored, for matches()
}

// compileJavaRegex compiles a Java regular expression.
func compileJavaRegex(expr string) (*javaRegex, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	whole, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, err
	}
	return &javaRegex{re: re, whole: whole}, nil
}

// matches reports whether s matches entirely (Matcher.matches).
func (r *javaRegex) matches(s string) bool { return r.whole.MatchString(s) }

// replaceFirst replaces the first match in s with rep (Matcher.replaceFirst).
func (r *javaRegex) replaceFirst(s string, rep *javaReplacement) string {
	loc := r.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(rep.lit))
	b.WriteString(s[:loc[0]])
	rep.expand(&b, s, loc)
	b.WriteString(s[loc[1]:])
	return b.String()
}

// javaReplacement is a compiled Matcher replacement string: "$n" and
// "${name}" refer to groups, a backslash escapes the next character.
type javaReplacement struct {
	lit   string // all literal text, concatenated (segments index into it)
	parts []replPart
}

// replPart is literal text lit[from:to], or group number group (>= 0).
type replPart struct {
	from, to int
	group    int
}

// compileJavaReplacement parses rep against re's groups with Java's rules:
// after '$' the group number is read greedily while it names an existing
// group ("$10" with one group is group 1 then "0"); a missing group is an
// error.
func compileJavaReplacement(rep string, re *regexp.Regexp) (*javaReplacement, error) {
	groups := re.NumSubexp()
	out := &javaReplacement{}
	var lit []byte
	addLit := func(b ...byte) {
		from := len(lit)
		lit = append(lit, b...)
		if n := len(out.parts); n > 0 && out.parts[n-1].group < 0 && out.parts[n-1].to == from {
			out.parts[n-1].to = len(lit)
			return
		}
		out.parts = append(out.parts, replPart{from: from, to: len(lit), group: -1})
	}
	for i := 0; i < len(rep); {
		c := rep[i]
		switch c {
		case '\\':
			i++
			if i == len(rep) {
				return nil, errors.New("character to be escaped is missing")
			}
			addLit(rep[i])
			i++
		case '$':
			i++
			if i == len(rep) {
				return nil, errors.New("Illegal group reference: group index is missing")
			}
			if rep[i] == '{' {
				end := strings.IndexByte(rep[i:], '}')
				if end < 0 {
					return nil, errors.New("named capturing group is missing trailing '}'")
				}
				name := rep[i+1 : i+end]
				if name == "" {
					return nil, errors.New("named capturing group has 0 length name")
				}
				g := re.SubexpIndex(name)
				if g < 0 {
					return nil, errors.New("No group with name {" + name + "}")
				}
				out.parts = append(out.parts, replPart{group: g})
				i += end + 1
				continue
			}
			if rep[i] < '0' || rep[i] > '9' {
				return nil, errors.New("Illegal group reference")
			}
			ref := int(rep[i] - '0')
			i++
			for i < len(rep) && rep[i] >= '0' && rep[i] <= '9' {
				next := ref*10 + int(rep[i]-'0')
				if next > groups {
					break
				}
				ref = next
				i++
			}
			if ref > groups {
				return nil, errors.New("No group " + strconv.Itoa(ref))
			}
			out.parts = append(out.parts, replPart{group: ref})
		default:
			addLit(c)
			i++
		}
	}
	out.lit = string(lit)
	return out, nil
}

// expand writes the replacement for the match loc of s.
func (r *javaReplacement) expand(b *strings.Builder, s string, loc []int) {
	for _, p := range r.parts {
		if p.group < 0 {
			b.WriteString(r.lit[p.from:p.to])
			continue
		}
		if start, end := loc[2*p.group], loc[2*p.group+1]; start >= 0 {
			b.WriteString(s[start:end])
		}
	}
}
