package extract

import (
	"strings"

	"github.com/engram-memory/engram/domain"
)

// names finds runs of capitalised words ("Sarah Connor", "University of
// Lisbon", "iPhone 15") among the tokens special did not take, and types
// each by word lists and the word before it.
func names(toks []token, used []bool) []domain.Mention {
	var out []domain.Mention
	sentStart := true
	for i := 0; i < len(toks); {
		if used[i] || !nameWord(toks[i].core) {
			sentStart = toks[i].endsSent
			i++
			continue
		}
		startsSentence := sentStart
		j := i + 1
		for j < len(toks) && !toks[j-1].endsRun && !used[j] {
			c := toks[j].core
			if nameWord(c) || isVersion(c) && j > i {
				j++
				continue
			}
			// "University of Lisbon", "Rue de Rivoli": a connector between two name words.
			if connectors[c] && j+1 < len(toks) && !toks[j].endsRun && !used[j+1] && nameWord(toks[j+1].core) {
				j += 2
				continue
			}
			break
		}
		sentStart = toks[j-1].endsSent
		words := make([]string, 0, j-i)
		for k := i; k < j; k++ {
			words = append(words, strings.TrimSuffix(strings.TrimSuffix(toks[k].core, "'s"), "’s"))
		}
		first := i
		// Drop leading words that are not names: a sentence's first word
		// when it is a common word, titles (kept as a person cue), months
		// and weekdays alone.
		title := false
		for len(words) > 0 {
			w := words[0]
			lw := strings.ToLower(w)
			if titles[strings.TrimSuffix(lw, ".")] {
				title = true
			} else if !(stopwords[lw] || startsSentence && first == i && !known(lw) && len(words) == 1 && !firstNames[lw]) {
				break
			}
			words = words[1:]
			first++
		}
		if len(words) > 0 && !(len(words) == 1 && (stopwords[strings.ToLower(words[0])] || calendarWords[strings.ToLower(words[0])])) {
			name := strings.Join(words, " ")
			prev := ""
			if first > 0 {
				prev = strings.ToLower(toks[first-1].core)
			}
			typ := typeOf(words, prev, title)
			out = append(out, domain.Mention{Name: name, Type: typ, Kind: domain.MentionName,
				Start: toks[first].cs, End: toks[j-1].ce})
		}
		i = j
	}
	return out
}

// nameWord is a capitalised word ("Lisbon", "McDonald", "AWS") or a known
// lower-case brand ("iPhone", "eBay").
func nameWord(s string) bool {
	if s == "" {
		return false
	}
	if upperStart(s) {
		return len(s) > 1 || s == "X"
	}
	return len(s) > 1 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'A' && s[1] <= 'Z' // iPhone, eBay
}

func isVersion(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			return false
		}
	}
	return s[0] != '.'
}

func known(lw string) bool {
	return places[lw] || orgs[lw] || products[lw] || events[lw]
}

// typeOf types a name by, in order: a title before it, word lists of the
// whole name, its last and first words, an all-capitals acronym, the word
// before it, and a first name.
func typeOf(words []string, prev string, title bool) domain.EntityType {
	if title {
		return domain.EntityPerson
	}
	full := strings.ToLower(strings.Join(words, " "))
	switch {
	case places[full]:
		return domain.EntityPlace
	case orgs[full]:
		return domain.EntityOrganisation
	case products[full]:
		return domain.EntityProduct
	case events[full]:
		return domain.EntityEvent
	}
	last := strings.ToLower(words[len(words)-1])
	firstW := strings.ToLower(words[0])
	switch {
	case eventSuffix[last] || strings.HasSuffix(last, "con") && len(words) == 1 && len(last) > 4:
		return domain.EntityEvent
	case orgSuffix[last] || orgPrefix[firstW]:
		return domain.EntityOrganisation
	case placeSuffix[last] || placePrefix[firstW]:
		return domain.EntityPlace
	case products[firstW] && len(words) > 1:
		return domain.EntityProduct
	case places[firstW] && len(words) > 1 && eventSuffix[last]:
		return domain.EntityEvent
	}
	if len(words) == 1 && acronym(words[0]) {
		return domain.EntityOrganisation
	}
	if firstNames[firstW] {
		return domain.EntityPerson
	}
	switch prev {
	case "in", "to", "from", "near", "visit", "visited", "visiting", "around":
		return domain.EntityPlace
	case "with", "met", "ask", "asked", "tell", "told", "call", "called", "and", "brother", "sister",
		"mother", "father", "son", "daughter", "wife", "husband", "friend", "manager", "boss", "colleague", "invited", "owes":
		return domain.EntityPerson
	case "at", "for", "joined":
		return domain.EntityOrganisation
	}
	if len(words) == 2 {
		return domain.EntityPerson // "Jonas Weber": two capitalised words are most often a person
	}
	return domain.EntityOther
}

func acronym(s string) bool {
	if len(s) < 2 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
