package referral

// countries is every officially assigned ISO 3166-1 alpha-3 code (249 codes,
// taken from Debian's iso-codes 4.15.0). User-assigned codes such as XKX and
// ICAO's XXA (stateless) are deliberately absent: the contract says ISO 3166-1,
// and a code that other systems may read differently would travel in exports.
// Only upper case is accepted so that stored values compare byte for byte.
var countries = map[string]bool{
	"ABW": true, // Aruba
	"AFG": true, // Afghanistan
	"AGO": true, // Angola
	"AIA": true, // Anguilla
	"ALA": true, // Åland Islands
	"ALB": true, // Albania
	"AND": true, // Andorra
	"ARE": true, // United Arab Emirates
	"ARG": true, // Argentina
	"ARM": true, // Armenia
	"ASM": true, // American Samoa
	"ATA": true, // Antarctica
	"ATF": true, // French Southern Territories
	"ATG": true, // Antigua and Barbuda
	"AUS": true, // Australia
	"AUT": true, // Austria
	"AZE": true, // Azerbaijan
	"BDI": true, // Burundi
	"BEL": true, // Belgium
	"BEN": true, // Benin
	"BES": true, // Bonaire, Sint Eustatius and Saba
	"BFA": true, // Burkina Faso
	"BGD": true, // Bangladesh
	"BGR": true, // Bulgaria
	"BHR": true, // Bahrain
	"BHS": true, // Bahamas
	"BIH": true, // Bosnia and Herzegovina
	"BLM": true, // Saint Barthélemy
	"BLR": true, // Belarus
	"BLZ": true, // Belize
	"BMU": true, // Bermuda
	"BOL": true, // Bolivia, Plurinational State of
	"BRA": true, // Brazil
	"BRB": true, // Barbados
	"BRN": true, // Brunei Darussalam
	"BTN": true, // Bhutan
	"BVT": true, // Bouvet Island
	"BWA": true, // Botswana
	"CAF": true, // Central African Republic
	"CAN": true, // Canada
	"CCK": true, // Cocos (Keeling) Islands
	"CHE": true, // Switzerland
	"CHL": true, // Chile
	"CHN": true, // China
	"CIV": true, // Côte d'Ivoire
	"CMR": true, // Cameroon
	"COD": true, // Congo, The Democratic Republic of the
	"COG": true, // Congo
	"COK": true, // Cook Islands
	"COL": true, // Colombia
	"COM": true, // Comoros
	"CPV": true, // Cabo Verde
	"CRI": true, // Costa Rica
	"CUB": true, // Cuba
	"CUW": true, // Curaçao
	"CXR": true, // Christmas Island
	"CYM": true, // Cayman Islands
	"CYP": true, // Cyprus
	"CZE": true, // Czechia
	"DEU": true, // Germany
	"DJI": true, // Djibouti
	"DMA": true, // Dominica
	"DNK": true, // Denmark
	"DOM": true, // Dominican Republic
	"DZA": true, // Algeria
	"ECU": true, // Ecuador
	"EGY": true, // Egypt
	"ERI": true, // Eritrea
	"ESH": true, // Western Sahara
	"ESP": true, // Spain
	"EST": true, // Estonia
	"ETH": true, // Ethiopia
	"FIN": true, // Finland
	"FJI": true, // Fiji
	"FLK": true, // Falkland Islands (Malvinas)
	"FRA": true, // France
	"FRO": true, // Faroe Islands
	"FSM": true, // Micronesia, Federated States of
	"GAB": true, // Gabon
	"GBR": true, // United Kingdom
	"GEO": true, // Georgia
	"GGY": true, // Guernsey
	"GHA": true, // Ghana
	"GIB": true, // Gibraltar
	"GIN": true, // Guinea
	"GLP": true, // Guadeloupe
	"GMB": true, // Gambia
	"GNB": true, // Guinea-Bissau
	"GNQ": true, // Equatorial Guinea
	"GRC": true, // Greece
	"GRD": true, // Grenada
	"GRL": true, // Greenland
	"GTM": true, // Guatemala
	"GUF": true, // French Guiana
	"GUM": true, // Guam
	"GUY": true, // Guyana
	"HKG": true, // Hong Kong
	"HMD": true, // Heard Island and McDonald Islands
	"HND": true, // Honduras
	"HRV": true, // Croatia
	"HTI": true, // Haiti
	"HUN": true, // Hungary
	"IDN": true, // Indonesia
	"IMN": true, // Isle of Man
	"IND": true, // India
	"IOT": true, // British Indian Ocean Territory
	"IRL": true, // Ireland
	"IRN": true, // Iran, Islamic Republic of
	"IRQ": true, // Iraq
	"ISL": true, // Iceland
	"ISR": true, // Israel
	"ITA": true, // Italy
	"JAM": true, // Jamaica
	"JEY": true, // Jersey
	"JOR": true, // Jordan
	"JPN": true, // Japan
	"KAZ": true, // Kazakhstan
	"KEN": true, // Kenya
	"KGZ": true, // Kyrgyzstan
	"KHM": true, // Cambodia
	"KIR": true, // Kiribati
	"KNA": true, // Saint Kitts and Nevis
	"KOR": true, // Korea, Republic of
	"KWT": true, // Kuwait
	"LAO": true, // Lao People's Democratic Republic
	"LBN": true, // Lebanon
	"LBR": true, // Liberia
	"LBY": true, // Libya
	"LCA": true, // Saint Lucia
	"LIE": true, // Liechtenstein
	"LKA": true, // Sri Lanka
	"LSO": true, // Lesotho
	"LTU": true, // Lithuania
	"LUX": true, // Luxembourg
	"LVA": true, // Latvia
	"MAC": true, // Macao
	"MAF": true, // Saint Martin (French part)
	"MAR": true, // Morocco
	"MCO": true, // Monaco
	"MDA": true, // Moldova, Republic of
	"MDG": true, // Madagascar
	"MDV": true, // Maldives
	"MEX": true, // Mexico
	"MHL": true, // Marshall Islands
	"MKD": true, // North Macedonia
	"MLI": true, // Mali
	"MLT": true, // Malta
	"MMR": true, // Myanmar
	"MNE": true, // Montenegro
	"MNG": true, // Mongolia
	"MNP": true, // Northern Mariana Islands
	"MOZ": true, // Mozambique
	"MRT": true, // Mauritania
	"MSR": true, // Montserrat
	"MTQ": true, // Martinique
	"MUS": true, // Mauritius
	"MWI": true, // Malawi
	"MYS": true, // Malaysia
	"MYT": true, // Mayotte
	"NAM": true, // Namibia
	"NCL": true, // New Caledonia
	"NER": true, // Niger
	"NFK": true, // Norfolk Island
	"NGA": true, // Nigeria
	"NIC": true, // Nicaragua
	"NIU": true, // Niue
	"NLD": true, // Netherlands
	"NOR": true, // Norway
	"NPL": true, // Nepal
	"NRU": true, // Nauru
	"NZL": true, // New Zealand
	"OMN": true, // Oman
	"PAK": true, // Pakistan
	"PAN": true, // Panama
	"PCN": true, // Pitcairn
	"PER": true, // Peru
	"PHL": true, // Philippines
	"PLW": true, // Palau
	"PNG": true, // Papua New Guinea
	"POL": true, // Poland
	"PRI": true, // Puerto Rico
	"PRK": true, // Korea, Democratic People's Republic of
	"PRT": true, // Portugal
	"PRY": true, // Paraguay
	"PSE": true, // Palestine, State of
	"PYF": true, // French Polynesia
	"QAT": true, // Qatar
	"REU": true, // Réunion
	"ROU": true, // Romania
	"RUS": true, // Russian Federation
	"RWA": true, // Rwanda
	"SAU": true, // Saudi Arabia
	"SDN": true, // Sudan
	"SEN": true, // Senegal
	"SGP": true, // Singapore
	"SGS": true, // South Georgia and the South Sandwich Islands
	"SHN": true, // Saint Helena, Ascension and Tristan da Cunha
	"SJM": true, // Svalbard and Jan Mayen
	"SLB": true, // Solomon Islands
	"SLE": true, // Sierra Leone
	"SLV": true, // El Salvador
	"SMR": true, // San Marino
	"SOM": true, // Somalia
	"SPM": true, // Saint Pierre and Miquelon
	"SRB": true, // Serbia
	"SSD": true, // South Sudan
	"STP": true, // Sao Tome and Principe
	"SUR": true, // Suriname
	"SVK": true, // Slovakia
	"SVN": true, // Slovenia
	"SWE": true, // Sweden
	"SWZ": true, // Eswatini
	"SXM": true, // Sint Maarten (Dutch part)
	"SYC": true, // Seychelles
	"SYR": true, // Syrian Arab Republic
	"TCA": true, // Turks and Caicos Islands
	"TCD": true, // Chad
	"TGO": true, // Togo
	"THA": true, // Thailand
	"TJK": true, // Tajikistan
	"TKL": true, // Tokelau
	"TKM": true, // Turkmenistan
	"TLS": true, // Timor-Leste
	"TON": true, // Tonga
	"TTO": true, // Trinidad and Tobago
	"TUN": true, // Tunisia
	"TUR": true, // Türkiye
	"TUV": true, // Tuvalu
	"TWN": true, // Taiwan, Province of China
	"TZA": true, // Tanzania, United Republic of
	"UGA": true, // Uganda
	"UKR": true, // Ukraine
	"UMI": true, // United States Minor Outlying Islands
	"URY": true, // Uruguay
	"USA": true, // United States
	"UZB": true, // Uzbekistan
	"VAT": true, // Holy See (Vatican City State)
	"VCT": true, // Saint Vincent and the Grenadines
	"VEN": true, // Venezuela, Bolivarian Republic of
	"VGB": true, // Virgin Islands, British
	"VIR": true, // Virgin Islands, U.S.
	"VNM": true, // Viet Nam
	"VUT": true, // Vanuatu
	"WLF": true, // Wallis and Futuna
	"WSM": true, // Samoa
	"YEM": true, // Yemen
	"ZAF": true, // South Africa
	"ZMB": true, // Zambia
	"ZWE": true, // Zimbabwe
}
