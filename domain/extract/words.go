package extract

import "strings"

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Split(words, ",") {
		if w = strings.TrimSpace(w); w != "" {
			m[w] = true
		}
	}
	return m
}

// connectors may join two name words into one name.
var connectors = set("of, de, da, do, del, della, van, von, der, la, le, du, &")

// stopwords are capitalised only because they begin a sentence (or are
// not names at all); a run that starts with them loses them.
var stopwords = set(`i, i'm, i've, i'd, i'll, a, an, the, my, our, your, his, her, their, its, we, you, he, she, they, it,
this, that, these, those, there, here, what, when, where, who, why, how, which, if, then, but, and, or, so, also,
yes, no, not, ok, okay, please, thanks, hi, hello, dear, today, tomorrow, yesterday, tonight, now, later, soon,
every, each, all, some, any, most, many, few, after, before, since, until, during, on, in, at, to, from, for, with, by,
about, as, of, is, are, was, were, be, been, has, have, had, do, does, did, will, would, can, could, should, may, might,
must, just, only, always, never, often, sometimes, usually, still, again, maybe, perhaps, user, note, remember, call, ask,
email, meeting, lunch, dinner, breakfast, mum, mom, dad, grandma, grandpa, wants, likes, loves, hates, prefers, uses, works,
lives, moved, plays, reads, runs, keeps, takes, owes, drives, started, joined, bought, paid, spent, sent, met, asked, invited,
visited, applied, switched, studied, grew, going, flying, running, subscribed, favourite, favorite, budget, monthly, contact,
born, trip, deadline, salary, docs, follow, bookmarked, mortgage, marathon, vegetarian, allergic, her, his, new, next, last`)

// calendarWords alone are not entities (a month with a number is a date).
var calendarWords = set(`monday, tuesday, wednesday, thursday, friday, saturday, sunday, january, february, march, april,
may, june, july, august, september, october, november, december, christmas, easter, english, german, french, spanish`)

var titles = set("mr, mrs, ms, miss, dr, prof, professor, sir, madam, mx, uncle, aunt")

var orgSuffix = set(`inc, ltd, llc, gmbh, corp, corporation, company, co, bank, university, institute, labs, lab, group,
foundation, agency, hospital, school, college, ag, sa, plc, systems, technologies, partners, capital, ventures, studio,
studios, society, association, council, ministry, department, cross, times, post, journal, economist, airlines, motors`)

var orgPrefix = set("university, bank, ministry, department, institute")

var placeSuffix = set(`street, st, avenue, ave, road, rd, lane, square, park, lake, river, mountain, mountains, island,
islands, city, airport, station, beach, bay, valley, county, province, state, boulevard, bridge, hill, tower, museum`)

var placePrefix = set("rue, via, calle, avenida, lake, mount, mt, port, fort, san, santa, st., los, las, new, north, south, east, west")

var eventSuffix = set(`conference, summit, festival, olympics, wedding, marathon, expo, cup, week, hackathon, meetup,
workshop, fair, concert, championship, party, gala, symposium, congress, tournament, games`)

var events = set("kubecon, pycon, web summit, ces, wwdc, fosdem, oktoberfest, burning man, glastonbury, coachella")

var places = set(`berlin, lisbon, porto, tokyo, zurich, paris, london, nairobi, kenya, frankfurt, toronto, bristol, rome,
madrid, amsterdam, montreal, malibu, kyoto, iceland, japan, south korea, korea, germany, france, spain, portugal, italy,
usa, uk, england, scotland, ireland, dublin, new york, nyc, san francisco, los angeles, chicago, boston, seattle, austin,
vienna, munich, hamburg, cologne, prague, warsaw, budapest, athens, istanbul, cairo, lagos, cape town, johannesburg,
mumbai, delhi, bangalore, beijing, shanghai, hong kong, singapore, seoul, sydney, melbourne, auckland, mexico, mexico city,
brazil, sao paulo, são paulo, rio, buenos aires, lima, bogota, canada, vancouver, oslo, stockholm, copenhagen, helsinki,
brussels, geneva, barcelona, valencia, seville, milan, venice, florence, naples, edinburgh, manchester, liverpool, china,
india, australia, europe, asia, africa, america, switzerland, austria, netherlands, belgium, sweden, norway, denmark,
finland, poland, greece, turkey, egypt, morocco, nigeria, ghana, ethiopia, argentina, chile, peru, colombia, california,
texas, florida, bavaria, louvre, central park, silicon valley, brooklyn, manhattan, kreuzberg, alfama, thailand, vietnam,
bangkok, hanoi, bali, indonesia, philippines, manila, taiwan, taipei, israel, tel aviv, dubai, qatar, doha, russia, ukraine, kyiv`)

var orgs = set(`google, microsoft, apple, amazon, meta, facebook, netflix, siemens, sap, shopify, stripe, airbnb, uber,
tesla, ibm, oracle, intel, nvidia, amd, samsung, sony, toyota, bmw, volkswagen, mercedes, spotify, openai,
anthropic, mozilla, red cross, unicef, who, nasa, esa, cern, bbc, cnn, deutsche bank, 
the economist, github, gitlab, atlassian, salesforce, adobe, twitter, linkedin, ikea, zara, nike, adidas, starbucks,
mckinsey, deloitte, accenture, kpmg, pwc, goldman sachs, jp morgan, barclays, hsbc, ing, revolut, n26, wise, aws`)

var products = set(`iphone, ipad, macbook, macbook pro, macbook air, imac, kindle, android, windows, linux, ubuntu, debian,
neovim, vim, emacs, vscode, slack, jira, confluence, notion, obsidian, figma, docker, kubernetes, postgres, postgresql,
netflix, spotify, duolingo, azure, chatgpt, claude, gmail, whatsapp, telegram, signal, zoom, teams, excel, word, powerpoint,
photoshop, playstation, xbox, switch, nintendo switch, pixel, galaxy, model 3, model y, tesla model 3, tesla model y,
airpods, apple watch, thinkpad, chrome, firefox, safari, python, rust, golang, javascript, typescript, java`)

var firstNames = set(`anna, bob, maria, tom, sarah, jake, carlos, kim, leo, sam, elena, david, linda,
mark, noah, jonas, mia, hannah, oscar, pedro, alice, john, james, michael, robert, william, richard, joseph, thomas,
charles, daniel, matthew, anthony, paul, steven, andrew, joshua, kevin, brian, george, edward, ronald, timothy, jason,
jeffrey, ryan, jacob, gary, nicholas, eric, stephen, jonathan, larry, justin, scott, brandon, frank, benjamin, gregory,
samuel, raymond, patrick, alexander, jack, dennis, jerry, tyler, aaron, jose, henry, adam, douglas, nathan, peter, zachary,
kyle, walter, harold, jeremy, ethan, carl, keith, roger, gerald, christian, terry, sean, arthur, austin, noel, lawrence,
jesse, dylan, bryan, joe, jordan, billy, bruce, albert, willie, gabriel, logan, alan, juan, wayne, roy, ralph, randy, eugene,
vincent, russell, elijah, louis, bobby, philip, johnny, mary, patricia, jennifer, elizabeth, barbara, susan, jessica,
karen, nancy, lisa, betty, margaret, sandra, ashley, kimberly, emily, donna, michelle, dorothy, carol, amanda, melissa,
deborah, stephanie, rebecca, sharon, laura, cynthia, kathleen, amy, shirley, angela, helen, brenda, pamela, nicole, emma,
samantha, katherine, christine, debra, rachel, catherine, carolyn, janet, ruth, heather, diane, virginia, julie, joyce,
victoria, olivia, kelly, christina, lauren, joan, evelyn, judith, megan, cheryl, andrea, hannah, martha, jacqueline,
frances, gloria, ann, teresa, kathryn, sara, janice, jean, alice, madison, doris, abigail, julia, judy, grace, denise,
amber, marilyn, beverly, danielle, theresa, sophia, marie, diana, brittany, natalie, isabella, charlotte, rose, alexis,
kayla, lena, oliver, lucas, liam, ben, max, felix, paul, lukas, leon, finn, luca, sofia, lea, clara, ines, joão, joao,
miguel, tiago, rui, ana, beatriz, marta, sofia, fatima, ahmed, mohamed, ali, omar, yusuf, aisha, chen, wei, li, yuki, kenji,
hiro, raj, arjun, vikram, neha, anita, sunita, amit, olga, ivan, dmitri, sergei, natasha, pierre, jean, louis, camille,
chloe, manon, hugo, jules, giulia, marco, luca, francesca, matteo, lars, nils, erik, ingrid, astrid, sven, freya`)
